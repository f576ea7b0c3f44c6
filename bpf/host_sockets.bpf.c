// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * cgroup sock_addr hooks of the host's own sockets: a host process connecting (or
 * sending a datagram) to a published port on 127.0.0.1, ::1 or one of the host's
 * addresses is sent to the backend at the socket, before any packet exists, so that
 * no packet of the connection needs translating. UDP replies show the address the
 * client sent to (recvmsg), and so does getpeername. Sockets of other network
 * namespaces (containers) are left alone: the programs sit on the cgroup root, which
 * every process of the machine is under.
 */
#include <bpf/bpf_endian.h>

#include "lib/addr.h"
#include "lib/dnat_lookup.h"
#include "lib/proto.h"

#define FP_SOCK_ALLOW 1

/* The network namespace whose sockets are translated (the one `up` ran in): set by the
 * loader before load, from SO_NETNS_COOKIE. */
const volatile __u64 fp_host_netns_cookie = 0;

struct fp_sock_revnat_key {
	__u64 cookie;         /* the socket's (bpf_get_socket_cookie) */
	union fp_addr backend;
	__be16 backend_port;
	__u8 pad[6];
};

struct fp_sock_revnat {
	union fp_addr published;
	__be16 port;
	__u8 pad[6];
};

/* Written by connect/sendmsg when they send a socket to a backend; read by recvmsg and
 * getpeername to show the socket what it asked for. Not pinned: these programs alone
 * use it, and their pins keep it. LRU: a socket that is gone leaves its entries to age. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct fp_sock_revnat_key);
	__type(value, struct fp_sock_revnat);
} fp_sock_revnat SEC(".maps");

static __always_inline int fp_sock_is_hosts(struct bpf_sock_addr *ctx)
{
	return bpf_get_netns_cookie(ctx) == fp_host_netns_cookie &&
	       (ctx->protocol == IPPROTO_TCP || ctx->protocol == IPPROTO_UDP);
}

/* ctx's destination as an fp_addr (IPv4 mapped), and whether it is a loopback one. Returns
 * whether it is an IPv4 address (also the mapped one a dual-stack socket gives). */
static __always_inline int fp_sock_dst(struct bpf_sock_addr *ctx, int v4_ctx, union fp_addr *a, int *loopback)
{
	int v4;

	if (v4_ctx) {
		a->w[2] = bpf_htonl(0x0000ffff);
		a->w[3] = ctx->user_ip4;
	} else {
		a->w[0] = ctx->user_ip6[0];
		a->w[1] = ctx->user_ip6[1];
		a->w[2] = ctx->user_ip6[2];
		a->w[3] = ctx->user_ip6[3];
	}
	v4 = !a->w[0] && !a->w[1] && a->w[2] == bpf_htonl(0x0000ffff);
	*loopback = v4 ? (bpf_ntohl(a->w[3]) >> 24) == 127 : !a->w[0] && !a->w[1] && !a->w[2] && a->w[3] == bpf_htonl(1);
	return v4;
}

static __always_inline void fp_sock_set_dst(struct bpf_sock_addr *ctx, int v4_ctx, const union fp_addr *a,
					    __be16 port)
{
	if (v4_ctx) {
		ctx->user_ip4 = a->w[3];
	} else {
		ctx->user_ip6[0] = a->w[0];
		ctx->user_ip6[1] = a->w[1];
		ctx->user_ip6[2] = a->w[2];
		ctx->user_ip6[3] = a->w[3];
	}
	ctx->user_port = port;
}

/* connect and sendmsg: a published destination becomes its backend. */
static __always_inline int fp_sock_to_backend(struct bpf_sock_addr *ctx, int v4_ctx)
{
	const struct fp_config *cfg = fp_config_get();
	struct fp_sock_revnat_key key = {};
	struct fp_sock_revnat rev = {}, *known;
	struct fp_dnat_backend *exact;
	union fp_addr dst = {}, baddr;
	__be16 port = (__be16)ctx->user_port, bport;
	int loopback, v4;

	if (!cfg || !cfg->dnat_entries || !fp_sock_is_hosts(ctx))
		return FP_SOCK_ALLOW;
	v4 = fp_sock_dst(ctx, v4_ctx, &dst, &loopback);
	if (!fp_published_backend(&dst, v4, ctx->protocol, port, cfg, loopback ? 1 : -1, &baddr, &bport, &exact))
		return FP_SOCK_ALLOW;
	key.cookie = bpf_get_socket_cookie(ctx);
	key.backend = baddr;
	key.backend_port = bport;
	rev.published = dst;
	rev.port = port;
	/* A UDP socket sends every datagram through here: write only what changed. */
	known = bpf_map_lookup_elem(&fp_sock_revnat, &key);
	if (!known || known->port != port || !fp_addr_equal(&known->published, &dst))
		bpf_map_update_elem(&fp_sock_revnat, &key, &rev, BPF_ANY);
	fp_sock_set_dst(ctx, v4_ctx, &baddr, bport);
	return FP_SOCK_ALLOW;
}

/* recvmsg and getpeername: a backend this socket was sent to shows as what it asked for. */
static __always_inline int fp_sock_from_backend(struct bpf_sock_addr *ctx, int v4_ctx)
{
	struct fp_sock_revnat_key key = {};
	struct fp_sock_revnat *rev;
	int loopback;

	if (bpf_get_netns_cookie(ctx) != fp_host_netns_cookie)
		return FP_SOCK_ALLOW;
	fp_sock_dst(ctx, v4_ctx, &key.backend, &loopback);
	key.cookie = bpf_get_socket_cookie(ctx);
	key.backend_port = (__be16)ctx->user_port;
	rev = bpf_map_lookup_elem(&fp_sock_revnat, &key);
	if (rev)
		fp_sock_set_dst(ctx, v4_ctx, &rev->published, rev->port);
	return FP_SOCK_ALLOW;
}

/* Each hook is one of the two functions above, for one family. */
#define FP_HOST_SOCKET_HOOK(name, fn, v4)                                                                         \
	SEC("cgroup/" #name)                                                                                      \
	int host_##name(struct bpf_sock_addr *ctx)                                                                \
	{                                                                                                         \
		return fn(ctx, v4);                                                                               \
	}

FP_HOST_SOCKET_HOOK(connect4, fp_sock_to_backend, 1)
FP_HOST_SOCKET_HOOK(connect6, fp_sock_to_backend, 0)
FP_HOST_SOCKET_HOOK(sendmsg4, fp_sock_to_backend, 1)
FP_HOST_SOCKET_HOOK(sendmsg6, fp_sock_to_backend, 0)
FP_HOST_SOCKET_HOOK(recvmsg4, fp_sock_from_backend, 1)
FP_HOST_SOCKET_HOOK(recvmsg6, fp_sock_from_backend, 0)
FP_HOST_SOCKET_HOOK(getpeername4, fp_sock_from_backend, 1)
FP_HOST_SOCKET_HOOK(getpeername6, fp_sock_from_backend, 0)

char LICENSE[] SEC("license") = "Dual BSD/GPL";

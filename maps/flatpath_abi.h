/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The kernel <-> user space ABI of flatpath: every map key and value, the
 * enums they carry, map names and pin paths. Defined once, here, in C; the
 * BPF programs and the C++ loader both include this file. A test
 * (tests/unit/abi_btf_test.cpp) compares these layouts with the BTF of the
 * compiled BPF objects.
 *
 * Rules: fixed-width types only, explicit padding, a size assertion per struct.
 * Fields are only ever appended (before the padding) so that a newer loader
 * can keep reading maps pinned by an older one.
 */
#ifndef FLATPATH_ABI_H
#define FLATPATH_ABI_H

#include <linux/types.h>

#ifdef __cplusplus
#define FP_STATIC_ASSERT static_assert
#else
#define FP_STATIC_ASSERT _Static_assert
#endif

/* ---- paths ------------------------------------------------------------ */

/* Default pin root; moved with --pin-root / FLATPATH_PIN_ROOT. */
#define FP_PIN_ROOT_DEFAULT "/sys/fs/bpf/flatpath"
#define FP_PIN_ROOT_ENV "FLATPATH_PIN_ROOT"

/* Map names: the ELF names in bpf/lib/maps.h and the file names of the pins. */
#define FP_MAP_ENDPOINTS "fp_endpoints"
#define FP_MAP_IFACES "fp_ifaces"
#define FP_MAP_TX_DEVS "fp_tx_devs"
#define FP_MAP_EP_STATS "fp_ep_stats"
#define FP_MAP_REASONS "fp_reasons"

/* Program pins live in this sub-directory of the pin root. */
#define FP_PIN_PROGS_DIR "progs"

/* ---- sizes ------------------------------------------------------------ */

#define FP_MAX_ENDPOINT_ADDRS 65536 /* entries in fp_endpoints */
#define FP_MAX_IFACES 16384         /* entries in fp_ifaces and fp_tx_devs */
#define FP_MAX_SLOTS FP_MAX_IFACES  /* endpoint counter slots; 0 is unused */

/* ---- addresses ---------------------------------------------------------- */

/*
 * One key type for IPv4 and IPv6: IPv4 is stored IPv4-mapped
 * (::ffff:a.b.c.d, RFC 4291 2.5.5.2), so one hash lookup serves both
 * families and the family never needs a field of its own.
 * All words are in network byte order.
 */
union fp_addr {
	__u8 b[16];
	__u32 w[4];
};
FP_STATIC_ASSERT(sizeof(union fp_addr) == 16, "fp_addr is 16 bytes");

/* ---- endpoints ---------------------------------------------------------- */

enum fp_ep_kind {
	FP_EP_VETH = 1,   /* host side of a veth; peer is in a container netns */
	FP_EP_TAP = 2,    /* L2 tap device in the host netns */
	FP_EP_TUN = 3,    /* L3 tun device (no Ethernet header) */
	FP_EP_REMOTE = 4, /* an endpoint on another host (later) */
};

/* fp_endpoints: endpoint address -> where it lives. */
struct fp_endpoint_key {
	union fp_addr addr;
};
FP_STATIC_ASSERT(sizeof(struct fp_endpoint_key) == 16, "endpoint key size");

struct fp_endpoint {
	__u32 ifindex;    /* host-side device (veth, tap or tun) */
	__u32 slot;       /* index into fp_ep_stats, shared by all addresses of a device */
	__u8 mac[6];      /* the container's MAC: destination when forwarding to it */
	__u8 host_mac[6]; /* the host-side device's MAC: source when forwarding to it */
	__u8 kind;        /* enum fp_ep_kind */
	__u8 flags;       /* reserved, 0 */
	__u8 pad[2];
};
FP_STATIC_ASSERT(sizeof(struct fp_endpoint) == 24, "endpoint value size");

/* ---- interfaces --------------------------------------------------------- */

enum fp_role {
	FP_ROLE_ENDPOINT = 1, /* host side of a container (tc from_container) */
	FP_ROLE_UPLINK = 2,   /* a host uplink (xdp_uplink + tc from_uplink) */
};

/* What flatpath attached to an interface, so that `down` undoes exactly that. */
enum fp_attach_flags {
	FP_ATTACHED_TC_INGRESS = 1 << 0,
	FP_ATTACHED_XDP_NATIVE = 1 << 1,
	FP_ATTACHED_XDP_GENERIC = 1 << 2,
	FP_CREATED_CLSACT = 1 << 3, /* the clsact qdisc was made by flatpath */
};

/* fp_ifaces: ifindex -> role and attach state. */
struct fp_iface_key {
	__u32 ifindex;
};
FP_STATIC_ASSERT(sizeof(struct fp_iface_key) == 4, "iface key size");

struct fp_iface {
	__u32 role;      /* enum fp_role */
	__u32 slot;      /* endpoints: counter slot */
	__u32 nr_addrs;  /* endpoints: addresses in fp_endpoints pointing here */
	__u8 mac[6];     /* endpoints: the only source MAC accepted from the container */
	__u8 attached;   /* enum fp_attach_flags */
	__u8 kind;       /* endpoints: enum fp_ep_kind */
};
FP_STATIC_ASSERT(sizeof(struct fp_iface) == 20, "iface value size");

/* ---- counters ----------------------------------------------------------- */

/* fp_ep_stats: per-CPU array indexed by slot. */
struct fp_ep_stats {
	__u64 to_packets;   /* delivered to the endpoint by the fast path */
	__u64 to_bytes;
	__u64 from_packets; /* sent by the endpoint and accepted by from_container */
	__u64 from_bytes;
};
FP_STATIC_ASSERT(sizeof(struct fp_ep_stats) == 32, "ep stats size");

/*
 * Reasons, the index into fp_reasons. Datapath helpers return a verdict
 * (>= 0) or the negative of one of these; the single exit counts it.
 * Below FP_DROP_FIRST the packet goes on to the kernel stack; from
 * FP_DROP_FIRST on it is dropped.
 */
enum fp_reason {
	FP_REASON_NONE = 0,
	/* handed to the host stack */
	FP_PASS_NOT_IP = 1,        /* ARP, LLDP, ...: the kernel's job */
	FP_PASS_NO_ENDPOINT = 2,   /* destination is not a local endpoint */
	FP_PASS_TTL = 3,           /* TTL / hop limit <= 1: the stack sends time-exceeded */
	FP_PASS_VLAN = 4,          /* VLAN-tagged: the stack (or a VLAN device) handles it */
	FP_PASS_LINK_LOCAL = 5,    /* IPv6 link-local / unspecified source: NDP, DAD */
	FP_PASS_IPV6_HOP_BY_HOP = 6, /* hop-by-hop options must be seen by the stack */
	FP_PASS_KIND = 7,          /* destination kind this hook does not deliver to yet */
	FP_PASS_NOT_FOR_HOST = 8,  /* uplink frame not addressed to the uplink's own MAC */
	FP_DROP_FIRST = 32,
	FP_DROP_SPOOF_MAC = 32,    /* source MAC is not the endpoint's */
	FP_DROP_SPOOF_IP = 33,     /* source IP does not belong to the sending device */
	FP_DROP_MALFORMED = 34,    /* truncated header, bad IHL, bad version */
	FP_DROP_NOT_ENDPOINT = 35, /* from_container on a device with no endpoint */
	FP_DROP_REDIRECT = 36,     /* XDP: destination device missing from fp_tx_devs */
	FP_REASON_MAX = 48,
};

/* Which program counted a reason: fp_reasons is indexed hook * FP_REASON_MAX + reason. */
enum fp_hook {
	FP_HOOK_XDP_UPLINK = 0,
	FP_HOOK_TC_UPLINK = 1,
	FP_HOOK_TC_ENDPOINT = 2,
	FP_HOOK_MAX = 3,
};

#define FP_REASON_ENTRIES ((int)FP_HOOK_MAX * (int)FP_REASON_MAX)

struct fp_reason_stats {
	__u64 packets;
	__u64 bytes;
};
FP_STATIC_ASSERT(sizeof(struct fp_reason_stats) == 16, "reason stats size");

#endif /* FLATPATH_ABI_H */

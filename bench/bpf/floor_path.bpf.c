/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The floor of F's topology (configuration B-min): every IPv4 frame arriving on one
 * device goes to one other with its MACs rewritten, and nothing is looked up, translated
 * or counted. What a datapath on this path must pay whatever it does: the hook, the MAC
 * rewrite and the redirect. flatpath's figures are read against it.
 *
 * One object per direction, configured before load: into the container (uplink ingress
 * to the container's veth, through its peer) and out of it (the container's host-side
 * veth to the uplink's egress).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/* Set before load: where every frame goes, and the MACs it leaves with. */
const volatile __u32 out_ifindex = 0;
const volatile __u8 into_peer = 0; /* bpf_redirect_peer (tc only): straight into the peer's namespace */
const volatile __u8 dst_mac[ETH_ALEN];
const volatile __u8 src_mac[ETH_ALEN];

/* Rewrites the Ethernet header of an IPv4 frame; false for anything else, which passes. */
static __always_inline int rewrite(void *data, void *data_end)
{
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return 0;
	for (int i = 0; i < ETH_ALEN; i++) {
		eth->h_dest[i] = dst_mac[i];
		eth->h_source[i] = src_mac[i];
	}
	return 1;
}

SEC("tc")
int floor_tc(struct __sk_buff *skb)
{
	if (!rewrite((void *)(long)skb->data, (void *)(long)skb->data_end))
		return TC_ACT_OK;
	return into_peer ? bpf_redirect_peer(out_ifindex, 0) : bpf_redirect(out_ifindex, 0);
}

SEC("xdp")
int floor_xdp(struct xdp_md *ctx)
{
	if (!rewrite((void *)(long)ctx->data, (void *)(long)ctx->data_end))
		return XDP_PASS;
	return bpf_redirect(out_ifindex, 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The bench's receiver: on a container's eth0 (tc ingress, or XDP), counts the IPv4 UDP
 * datagrams sent to the bench's port and drops them there. Counting where the
 * container would receive makes every configuration's figure "what reached the
 * container"; dropping keeps the container's own socket work out of the rate, which
 * is the datapath's. Everything else passes untouched, so the same attachment does
 * not disturb other traffic.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/* Set before load: the destination port counted (host order). */
const volatile __u16 sink_port = 9;

/* Set before load for live-frames runs: the frame as the generator sent it. */
#define RESTORE_LEN 60
const volatile __u8 restore_frame[RESTORE_LEN];
const volatile __u8 restore = 0;

/* Datagrams counted, per CPU; read by the bench after a run (never pinned). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} sink_count SEC(".maps");

/* Ethernet + IPv4 + UDP */
#define FLOOD_HEADERS (14 + 20 + 8)

/* Counts the frame when it is a bench datagram; true when it was. */
static __always_inline int count_flood(void *data, void *data_end)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1); /* the bench sends no IP options */
	__u32 key = 0;
	__u64 *count;

	if ((void *)(udp + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->protocol != IPPROTO_UDP ||
	    ip->ihl != 5 || udp->dest != bpf_htons(sink_port))
		return 0;
	count = bpf_map_lookup_elem(&sink_count, &key);
	if (count)
		*count += 1; /* per-CPU: no atomics needed */
	return 1;
}

/* For traffic arriving as skbs (every configuration's packet-rate runs). */
SEC("tc")
int rx_sink(struct __sk_buff *skb)
{
	/* The generator's skbs carry everything after the Ethernet header in pages (its
	 * transmit ring is not copied); a receiver reads headers from the linear part. */
	if (skb->len >= FLOOD_HEADERS && (void *)(long)skb->data + FLOOD_HEADERS > (void *)(long)skb->data_end)
		bpf_skb_pull_data(skb, FLOOD_HEADERS);
	return count_flood((void *)(long)skb->data, (void *)(long)skb->data_end) ? TC_ACT_SHOT : TC_ACT_OK;
}

/*
 * For frames redirected as XDP frames (the live-frames runs). A test run recycles its
 * pages with the frame as the datapath left it (translated, MACs rewritten), which
 * xdp_uplink would rightly refuse the next time round; so the sink writes the
 * generator's frame back before the page returns to the pool.
 */
SEC("xdp")
int rx_sink_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;

	if (!count_flood(data, data_end))
		return XDP_PASS;
	if (restore && data + RESTORE_LEN <= data_end) {
		for (int i = 0; i < RESTORE_LEN; i++)
			((__u8 *)data)[i] = restore_frame[i];
	}
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

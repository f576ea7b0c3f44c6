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
#define FP_MAP_EP_PREFIXES "fp_ep_prefixes"
#define FP_MAP_IFACES "fp_ifaces"
#define FP_MAP_TX_DEVS "fp_tx_devs"
#define FP_MAP_EP_STATS "fp_ep_stats"
#define FP_MAP_REASONS "fp_reasons"
#define FP_MAP_DNAT "fp_dnat"
#define FP_MAP_DNAT_RANGES "fp_dnat_ranges"
#define FP_MAP_LOCAL_ADDRS "fp_local_addrs"
#define FP_MAP_CT "fp_ct"
#define FP_MAP_CT_NEW "fp_ct_new"
#define FP_MAP_BACKENDS "fp_backends"
#define FP_MAP_MARKS "fp_marks"
#define FP_MAP_CONFIG "fp_config"
#define FP_MAP_MASQ "fp_masq"
#define FP_MAP_MASQ_EXCEPT "fp_masq_except"
#define FP_MAP_CLUSTER "fp_cluster"
#define FP_MAP_TRACE_FILTER "fp_trace_filter"
#define FP_MAP_TRACE_CPU "fp_trace_cpu"
#define FP_MAP_TRACE_RING "fp_trace_ring"
#define FP_MAP_POLICY "fp_policy"
#define FP_MAP_POLICY_FLOWS "fp_policy_flows"
#define FP_MAP_DELIVERY "fp_delivery"

/* Program pins live in this sub-directory of the pin root. */
#define FP_PIN_PROGS_DIR "progs"

/* ---- sizes ------------------------------------------------------------ */
/* Those marked (up) are defaults: `flatpath up --max-endpoints/--max-ports/--max-marks/
 * --max-flows` creates the maps with other sizes (loader/datapath/table_sizes.hpp). */

#define FP_MAX_ENDPOINT_ADDRS 65536 /* entries in fp_endpoints (up) */
#define FP_MAX_IFACES 16384         /* entries in fp_ifaces and fp_tx_devs */
#define FP_MAX_SLOTS FP_MAX_IFACES  /* endpoint counter slots; 0 is unused */
#define FP_MAX_DNAT 65536           /* single-port DNAT entries (up) */
#define FP_MAX_RANGE_SETS 1024      /* (address, protocol) pairs that have port ranges */
#define FP_MAX_RANGES 16            /* port ranges per (address, protocol) */
#define FP_MAX_LOCAL_ADDRS 4096     /* host addresses that "any" DNAT entries apply to */
#define FP_MAX_BACKENDS 65536       /* backend (address, protocol, port)s of published ports (up) */
#define FP_MAX_CT 262144            /* assured conntrack entries (two per flow), never evicted (up) */
#define FP_MAX_CT_NEW 262144        /* conntrack entries of flows not assured yet, LRU (up) */
#define FP_MAX_MARKS 65536          /* mark rules (up) */
#define FP_MAX_MASQ 1024            /* masqueraded source subnets */
#define FP_MAX_MASQ_EXCEPT 4096     /* destinations excepted from them, all rules together */
#define FP_MAX_CLUSTER 16384        /* cluster networks and other hosts' subnets */
#define FP_TRACE_RING_BYTES (1 << 21) /* the trace ring: about 15,000 events */
#define FP_MAX_POLICY_RULES 64      /* rules per endpoint, both directions together (a power of 2) */
#define FP_MAX_POLICY_FLOWS 65536   /* flows of endpoints with a policy, LRU */

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

/* Endpoint devices and uplinks have at least IPv6's minimum MTU (the loader refuses
 * others): the datapath compares only longer packets with a device's MTU. */
#define FP_MIN_MTU 1280

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
	__u8 flags;       /* enum fp_ep_flags: the datapath's, user space writes 0 */
	__u8 pad[2];
	/* 0, or the network the endpoint belongs to (the daemon's attach mode: its bridge's
	 * ifindex). Containers in two different non-zero zones are not short-circuited to
	 * each other: the host stack (and its firewall, e.g. Docker's network isolation)
	 * decides. */
	__u32 zone;
};
FP_STATIC_ASSERT(sizeof(struct fp_endpoint) == 28, "endpoint value size");

/*
 * fp_ep_prefixes: which prefixes hold endpoints, a summary of fp_endpoints that answers
 * most of its misses without a hash lookup (the source of a LAN packet, the published
 * address a client connects to, the remote end of a reply). An array of
 * FP_EP_PREFIX_BUCKETS bytes indexed by fp_ep_prefix_bucket (an IPv4 address's /24, an IPv6
 * address's /64, hashed): 0 says no endpoint has an address there, anything else "maybe".
 * User space sets a bucket before it writes an endpoint in it and clears buckets only while
 * no endpoint can be written meanwhile (under the datapath lock), so a 0 is always true.
 */
#define FP_EP_PREFIX_BUCKETS 65536

static inline __u32 fp_ep_prefix_bucket(const union fp_addr *a)
{
	__u32 x;

	/* IPv4 (::ffff:0:0/96) by its /24: the three bytes read one by one, the same on
	 * either byte order. IPv6 by its /64 (byte order does not matter to a hash that the
	 * datapath and the loader compute on one host). */
	if (a->w[0] == 0 && a->w[1] == 0)
		x = (__u32)a->b[12] << 16 | (__u32)a->b[13] << 8 | a->b[14];
	else
		x = a->w[0] ^ (a->w[1] * 0x9E3779B1u);
	return (x * 0x9E3779B1u) >> 16; /* Fibonacci hashing into 16 bits */
}

enum fp_ep_flags {
	/* A conntrack entry was made for a flow to or from the address (set by the datapath,
	 * once): removing the endpoint must purge conntrack, which reads the whole table; an
	 * endpoint without the flag goes without that scan. */
	FP_EP_HAD_FLOWS = 1 << 0,
};

/* ---- interfaces --------------------------------------------------------- */

enum fp_role {
	FP_ROLE_ENDPOINT = 1, /* host side of a container (tc from_container) */
	FP_ROLE_UPLINK = 2,   /* a host uplink (xdp_uplink + tc from_uplink) */
	FP_ROLE_LOCAL = 3,    /* lo, attached by datapaths before the host's socket hooks (down undoes it) */
};

/* What flatpath attached to an interface, so that `down` undoes exactly that. */
enum fp_attach_flags {
	FP_ATTACHED_TC_INGRESS = 1 << 0,
	FP_ATTACHED_XDP_NATIVE = 1 << 1,
	FP_ATTACHED_XDP_GENERIC = 1 << 2,
	FP_CREATED_CLSACT = 1 << 3, /* the clsact qdisc was made by flatpath */
	FP_SET_ACCEPT_LOCAL = 1 << 4, /* lo: an older datapath turned net.ipv4.conf.lo.accept_local on */
	FP_ATTACHED_TC_EGRESS = 1 << 5, /* endpoints: to_container, the policy of what the stack sends it */
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

/* ---- DNAT ------------------------------------------------------------- */

/*
 * fp_dnat: {host address, protocol, port} -> backend. The unspecified address
 * of a family (0.0.0.0 as ::ffff:0.0.0.0, or ::) means "any local address of
 * the host in that family" (those in fp_local_addrs), like iptables'
 * --dst-type LOCAL. Ports are in network byte order.
 */
struct fp_dnat_key {
	union fp_addr addr;
	__be16 port;
	__u8 proto; /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 pad;
};
FP_STATIC_ASSERT(sizeof(struct fp_dnat_key) == 20, "dnat key size");

struct fp_dnat_backend {
	union fp_addr addr;
	__be16 port;
	__u8 flags; /* FP_DNAT_HAD_FLOWS */
	__u8 pad;
};
/* Set by the datapath on an exact entry when a flow is created through it: removing an
 * entry that never carried a flow skips the conntrack scan for its flows. */
#define FP_DNAT_HAD_FLOWS 0x1
FP_STATIC_ASSERT(sizeof(struct fp_dnat_backend) == 20, "dnat backend size");

/*
 * fp_dnat_ranges: {host address, protocol} -> its port ranges. A range is one
 * element here, never expanded per port; port P in [first, last] goes to
 * backend_first + (P - first). Ports in host byte order. Ranges of one set
 * never overlap (the loader refuses that).
 */
struct fp_range_key {
	union fp_addr addr;
	__u8 proto;
	__u8 pad[3];
};
FP_STATIC_ASSERT(sizeof(struct fp_range_key) == 20, "range key size");

struct fp_port_range {
	__u16 first;
	__u16 last;
	__u16 backend_first;
	__u16 pad;
	union fp_addr backend;
};
FP_STATIC_ASSERT(sizeof(struct fp_port_range) == 24, "port range size");

struct fp_range_set {
	__u32 count;
	__u32 pad;
	struct fp_port_range ranges[FP_MAX_RANGES];
};
FP_STATIC_ASSERT(sizeof(struct fp_range_set) == 8 + 24 * FP_MAX_RANGES, "range set size");

/*
 * fp_backends: {backend address, protocol, backend port} -> how many published ports
 * go there (exact entries, and each port of a range). Only a packet from one of these
 * can be a translated reply: the others skip the conntrack lookups.
 */
struct fp_backend_key {
	union fp_addr addr;
	__be16 port;
	__u8 proto;
	__u8 pad;
};
FP_STATIC_ASSERT(sizeof(struct fp_backend_key) == 20, "backend key size");

/* fp_local_addrs: the host's own addresses (value unused, 1). */
struct fp_local_addr_key {
	union fp_addr addr;
};
FP_STATIC_ASSERT(sizeof(struct fp_local_addr_key) == 16, "local addr key size");

/* ---- conntrack ---------------------------------------------------------- */

enum fp_ct_dir {
	FP_CT_ORIGINAL = 0, /* as the client sent it: client -> published address */
	FP_CT_REPLY = 1,    /* as the backend answers: backend -> client (or -> host, hairpin to itself) */
};

/*
 * Conntrack: one entry per direction of a translated flow, in one of two tables.
 * A flow starts in fp_ct_new (LRU: a flood of new flows evicts only other new
 * flows, as Linux's early drop does). It moves to fp_ct, which nothing evicts,
 * once it is assured: TCP when the client acknowledges the backend's SYN-ACK
 * (the handshake completed, which a spoofed source cannot do), UDP when the
 * client sends again after a reply. Both entries of a flow always sit in the
 * same table. Ports in network order.
 */
struct fp_ct_key {
	union fp_addr saddr;
	union fp_addr daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 dir; /* enum fp_ct_dir */
	__u8 pad[2];
};
FP_STATIC_ASSERT(sizeof(struct fp_ct_key) == 40, "ct key size");

enum fp_ct_flags {
	FP_CT_SEEN_REPLY = 1 << 0, /* the other direction has been seen (set in both entries) */
	FP_CT_FIN_ORIG = 1 << 1,
	FP_CT_FIN_REPLY = 1 << 2,
	FP_CT_RST = 1 << 3,
	FP_CT_SNAT = 1 << 4,      /* the source is rewritten too (hairpin to the sender itself, a remote backend) */
	FP_CT_ASSURED = 1 << 5,   /* the flow is in fp_ct */
	FP_CT_SYNACK_SEEN = 1 << 6, /* original entry: handshake_ack holds the ACK that completes it */
	FP_CT_DIRECT = 1 << 7,    /* a marker, no flow: a reply entry alone, for a SYN that reached a
				   * backend port directly (not through its publication), or an original
				   * entry for a datagram that reached an endpoint directly while
				   * masquerading (lib/masq.h); either's answer is not translated */
};

/* Which translation made a flow. */
enum fp_ct_kind {
	FP_CT_KIND_DNAT = 0, /* to a published port: the client's source is kept */
	FP_CT_KIND_MASQ = 1, /* a container's flow out of the host: its source is the host's
			      * (FP_CT_SNAT is set too); the original direction is the container's */
	FP_CT_KIND_DNAT_REMOTE = 2, /* to a published port whose backend is another host's
				     * container: the source becomes this host's address and a port
				     * of the masquerade range (FP_CT_SNAT), so that the backend's
				     * replies come back here to be translated (lib/dnat_remote.h) */
};

/*
 * Where an assured entry's packets go, resolved once by the full path and then used by
 * the established flow's fast path: its packets cost the conntrack lookup alone (and,
 * when they leave the host, the host's route, looked up per packet). Valid while
 * generation is fp_config.generation, which every change to what it was resolved from
 * (endpoints, published ports, marks, masquerade, cluster routes) moves on. An entry's
 * packets arrive on one side only: from an uplink (lib/flow_cache.h: the endpoint they
 * are delivered to) or from an endpoint (lib/flow_cache_sent.h: the sender's check and
 * the mark; the route out is the host's, looked up per packet).
 */
struct fp_ct_route {
	__u32 generation;
	__u32 in_ifindex;  /* the device the entry's packets arrived on when resolved */
	__u32 out_ifindex; /* from an uplink: the endpoint device they are delivered to */
	__u32 slot;        /* that endpoint's counters */
	__u8 dst_mac[6];   /* the endpoint's MAC */
	__u8 src_mac[6];   /* its host-side device's */
	__u8 from_mac[6];  /* from an endpoint: the sender's MAC (its frames must carry it) */
	__u8 ep_kind;      /* enum fp_ep_kind of that endpoint */
	__u8 pad;
	__u32 from_slot;   /* from an endpoint: the sender's counters */
	__u32 mark_value;  /* from an endpoint: the mark its packets get (lib/mark.h), */
	__u32 mark_mask;   /* where mark_mask is not 0 */
};
FP_STATIC_ASSERT(sizeof(struct fp_ct_route) == 48, "ct route size");

/* What a packet matching the key is rewritten to, and the flow's state. */
struct fp_ct_entry {
	union fp_addr saddr;
	union fp_addr daddr;
	__be16 sport;
	__be16 dport;
	__u8 flags; /* enum fp_ct_flags */
	__u8 kind;  /* enum fp_ct_kind */
	__u8 pad[2];
	__u64 expires_ns; /* CLOCK_MONOTONIC (bpf_ktime_get_ns) after which the entry is dead */
	__u64 packets;
	__u64 bytes;
	/* TCP, original entry of a new flow: the backend's initial sequence number + 1 (host
	 * order), the acknowledgement number the client's ACK must carry to assure the flow. */
	__u32 handshake_ack;
	__u32 pad2;
	struct fp_ct_route route; /* assured entries only (fp_ct) */
};
FP_STATIC_ASSERT(sizeof(struct fp_ct_entry) == 120, "ct entry size");

/* Timeouts (seconds), the same as user space uses to collect expired entries. A flow that
 * is not assured never gets more than the opening timeouts (Linux: SYN_RECV 60 s, UDP
 * unreplied 30 s); assured ones get the longer ones. */
#define FP_CT_TIMEOUT_TCP_SYN 60
#define FP_CT_TIMEOUT_TCP_ESTABLISHED 21600
#define FP_CT_TIMEOUT_TCP_CLOSE 10
#define FP_CT_TIMEOUT_UDP 30
#define FP_CT_TIMEOUT_UDP_STREAM 120

/* ---- marks -------------------------------------------------------------- */

enum fp_mark_match {
	FP_MARK_SOURCE = 0,      /* packets from {addr, proto, port}: replies from a published port */
	FP_MARK_DESTINATION = 1, /* packets to {addr, proto, port} */
};

/* fp_marks: {address or any (all zero), protocol, port, match} -> mark. Ports in network order. */
struct fp_mark_key {
	union fp_addr addr;
	__be16 port;
	__u8 proto;
	__u8 match; /* enum fp_mark_match */
};
FP_STATIC_ASSERT(sizeof(struct fp_mark_key) == 20, "mark key size");

/* skb->mark = (skb->mark & ~mask) | (value & mask) */
struct fp_mark {
	__u32 value;
	__u32 mask;
};
FP_STATIC_ASSERT(sizeof(struct fp_mark) == 8, "mark size");

/* ---- masquerade --------------------------------------------------------- */

/*
 * fp_masq (LPM trie): a source subnet -> how its flows out of the host are
 * masqueraded. A container's packet from such a subnet, to a destination that is
 * no local endpoint, no host address, in no masqueraded subnet and in none of the
 * rule's exceptions, and that the host routes out of an attached uplink (out_ifindex
 * when the rule names one), leaves with the address the host's route prefers as its
 * source and a port from fp_config's masquerade range.
 */
struct fp_masq_key {
	__u32 prefixlen; /* of addr: IPv4 as IPv4-mapped, so a /24 is 96 + 24 */
	union fp_addr addr;
};
FP_STATIC_ASSERT(sizeof(struct fp_masq_key) == 20, "masq key size");

struct fp_masq_rule {
	__u32 id;          /* the rule's exceptions carry it (fp_masq_except_key) */
	__u32 out_ifindex; /* 0: any attached uplink */
};
FP_STATIC_ASSERT(sizeof(struct fp_masq_rule) == 8, "masq rule size");

/* fp_masq_except (LPM trie): {rule id, destination prefix} -> 1. The id comes first,
 * so prefixlen counts its 32 bits too: a /24 IPv4 exception is 32 + 96 + 24. */
struct fp_masq_except_key {
	__u32 prefixlen;
	__u32 rule_id;
	union fp_addr addr;
};
FP_STATIC_ASSERT(sizeof(struct fp_masq_except_key) == 24, "masq except key size");

/* Masquerade ports, host order: above Linux's default ip_local_port_range
 * (32768-60999), so that the host's own connections never pick them. */
#define FP_MASQ_PORT_MIN_DEFAULT 61000
#define FP_MASQ_PORT_MAX_DEFAULT 65535
/* Free ports tried for a new flow before it is dropped (drop_masq_ports). */
#define FP_MASQ_PORT_TRIES 64

/* ---- cluster (multi-host) ------------------------------------------------ */

/*
 * fp_cluster (LPM trie): a destination prefix of the cluster network -> how it is
 * reached. A container's packet to no local endpoint whose destination is here is
 * routed with its own addresses (never masqueraded): hosts of a cluster reach each
 * other's containers directly. The cluster network itself has an entry with no peer;
 * each other host's subnet one with that host's address. host-gw: the host's route to
 * the subnet (via the peer, written with the entry) says the next hop. vxlan: the packet
 * goes to the peer's tunnel MAC through the tunnel device, with the peer as the tunnel's
 * remote end.
 */
struct fp_cluster_key {
	__u32 prefixlen; /* of addr: IPv4 as IPv4-mapped, so a /24 is 96 + 24 */
	union fp_addr addr;
};
FP_STATIC_ASSERT(sizeof(struct fp_cluster_key) == 20, "cluster key size");

struct fp_cluster_dest {
	union fp_addr peer;   /* the host whose subnet it is (its public address); zero: none */
	__u32 vni;            /* vxlan: the tunnel's VNI (for listings: the device has it) */
	__u32 tunnel_ifindex; /* vxlan: the tunnel device to send through; 0: host-gw */
	__u8 peer_mac[6];     /* vxlan: the peer's tunnel device MAC (Flannel's VtepMAC) */
	__u8 pad[2];
};
FP_STATIC_ASSERT(sizeof(struct fp_cluster_dest) == 32, "cluster dest size");

/* ---- configuration ------------------------------------------------------ */

/*
 * fp_config[0]: counts the loader keeps so that the datapath can skip lookups
 * that cannot match (no mark rules, no "any" DNAT entries, no ranges): traffic
 * that uses no feature pays nothing for it.
 */
struct fp_config {
	__u32 dnat_entries; /* DNAT entries plus range sets: 0 means no NAT work at all */
	__u32 dnat_any;     /* of those, with the "any" address */
	__u32 range_sets;
	__u32 mark_rules;     /* entries in fp_marks: 0 means no mark work at all */
	__u32 masq_rules;     /* entries in fp_masq: 0 means no masquerade work at all */
	__u16 masq_port_min;  /* the masquerade port range, host order (set by up) */
	__u16 masq_port_max;
	__u32 cluster_dests;  /* entries in fp_cluster: 0 means no cluster lookup */
	__u32 policies;       /* entries in fp_policy: 0 means no policy work at all */
	/* Moved on by every change that can alter where an established flow goes:
	 * conntrack entries' cached routes (fp_ct_route) of another generation are resolved
	 * again. */
	__u32 generation;
	/* Of mark_rules, the ones of each other key shape than {an address, a source port}:
	 * the datapath looks only for the shapes that exist (lib/mark.h). */
	__u32 mark_any_source;      /* {any address, source port} */
	__u32 mark_destinations;    /* {address or any, destination port} */
	__u32 mark_any_destination; /* of those, {any address, destination port} */
};
FP_STATIC_ASSERT(sizeof(struct fp_config) == 48, "config size");

/* ---- policy ------------------------------------------------------------- */

/* What a policy rule, or an endpoint's default, says. */
enum fp_policy_action {
	FP_POLICY_ALLOW = 1,
	FP_POLICY_DENY = 2,
};

/* Which traffic of the endpoint a rule is about. */
enum fp_policy_dir {
	FP_POLICY_IN = 0,  /* flows others start to it: the rule's address is the source,
			    * its ports the endpoint's own (the destination port) */
	FP_POLICY_OUT = 1, /* flows it starts: the rule's address and ports are the destination */
};

/* A rule: the remote address within addr/mask (IPv4-mapped) and of the family (4 or 6;
 * 0 with an all-zero mask: any address of either family, as ::/0 alone would also hold the
 * IPv4-mapped ones), the protocol (0: any; IPPROTO_ICMP stands for ICMPv6 too) and the port
 * in [port_first, port_last] (host order; 0-0: any; a port rule matches only TCP and UDP). */
struct fp_policy_rule {
	union fp_addr addr;
	union fp_addr mask;
	__u16 port_first;
	__u16 port_last;
	__u8 proto;
	__u8 action; /* enum fp_policy_action */
	__u8 dir;    /* enum fp_policy_dir */
	__u8 family; /* 0, 4 or 6 */
};
FP_STATIC_ASSERT(sizeof(struct fp_policy_rule) == 40, "policy rule size");

/*
 * fp_policy: an endpoint's host-side ifindex -> its policy, for all of its addresses.
 * A new flow (no entry in fp_policy_flows) of its direction is denied when a matching
 * rule denies it, else allowed when one allows it, else decided by that direction's
 * default. Its packets, both ways, then pass until the flow idles out. generation changes
 * with every change of the policy: a flow decided under another generation is decided
 * again, as it started, at its next packet (a change applies to existing flows too).
 */
struct fp_policy {
	__u32 generation;
	__u8 defaults[2]; /* enum fp_policy_action, by enum fp_policy_dir */
	__u8 count;       /* rules in use */
	__u8 pad;
	struct fp_policy_rule rules[FP_MAX_POLICY_RULES];
};
FP_STATIC_ASSERT(sizeof(struct fp_policy) == 8 + 40 * FP_MAX_POLICY_RULES, "policy size");

/* fp_policy_flows: a flow of an endpoint with a policy, from the endpoint's side (local:
 * its address and port; an ICMP echo's identifier as its port, as conntrack keys it), so
 * that both directions find one entry. Ports in network order. */
struct fp_policy_flow_key {
	__u32 ifindex;
	union fp_addr local;
	union fp_addr remote;
	__be16 local_port;
	__be16 remote_port;
	__u8 proto;
	__u8 pad[3];
};
FP_STATIC_ASSERT(sizeof(struct fp_policy_flow_key) == 44, "policy flow key size");

struct fp_policy_flow {
	__u64 expires_ns;  /* CLOCK_MONOTONIC, pushed on by its packets */
	__u32 generation;  /* of the policy that allowed it */
	__u8 origin;       /* enum fp_policy_dir: who started it */
	__u8 pad[3];
};
FP_STATIC_ASSERT(sizeof(struct fp_policy_flow) == 16, "policy flow size");

/* fp_delivery[0], per CPU: the endpoint a hook is delivering its packet to, set where it
 * redirects and taken at its exit, which checks that endpoint's policy and counts the
 * packet (off BPF's stack, which the handlers use up). ifindex 0: none. */
struct fp_delivery {
	__u32 ifindex;
	__u32 slot;
	__u32 len;
	__u32 pad;
};
FP_STATIC_ASSERT(sizeof(struct fp_delivery) == 16, "delivery size");

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
 *
 * Defined once, here: X(ENUM, VALUE, NAME, MEANING). The enum, the names that
 * `flatpath stats` and the metrics print, the class (pass or drop), the tests'
 * list and the README's table (checked by a unit test) all come from this list.
 */
#define FP_REASON_LIST(X) \
	X(FP_PASS_NOT_IP, 1, "pass_not_ip", "ARP and other non-IP frames: the kernel's job") \
	X(FP_PASS_NO_ENDPOINT, 2, "pass_no_endpoint", "destination is not a local endpoint: the host stack routes it") \
	X(FP_PASS_TTL, 3, "pass_ttl", "TTL / hop limit <= 1: the stack answers with ICMP time exceeded (traceroute works)") \
	X(FP_PASS_VLAN, 4, "pass_vlan", "VLAN-tagged frame: the stack (or a VLAN device) handles it") \
	X(FP_PASS_LINK_LOCAL, 5, "pass_link_local", "IPv6 link-local or unspecified source (NDP, DAD) from a container") \
	X(FP_PASS_IPV6_HOP_BY_HOP, 6, "pass_ipv6_hop_by_hop", "IPv6 hop-by-hop options: every router must see them") \
	X(FP_PASS_KIND, 7, "pass_kind", "XDP: the destination is a tun endpoint, whose frames need their Ethernet header stripped: tc delivers it") \
	X(FP_PASS_NOT_FOR_HOST, 8, "pass_not_for_host", "uplink frame not addressed to the uplink's MAC (broadcast, multicast, other hosts)") \
	X(FP_PASS_FRAGMENT, 9, "pass_fragment", "an IP fragment for no endpoint while ports are published (only a first fragment has ports): left to the stack") \
	X(FP_PASS_ICMP_ERROR, 10, "pass_icmp_error", "an ICMP error about no flow flatpath translated") \
	X(FP_PASS_OTHER_ZONE, 11, "pass_other_zone", "between endpoints of two different zones (networks): the host's firewall decides") \
	X(FP_PASS_NO_ROUTE, 12, "pass_no_route", "a translated reply the host's routes do not forward (local, unreachable, too big): the stack answers") \
	X(FP_PASS_GSO, 13, "pass_gso", "XDP: a frame larger than the uplink's MTU (an aggregated skb under generic XDP): tc takes it") \
	X(FP_PASS_IP_OPTIONS, 14, "pass_ip_options", "IPv4 header options (record route, router alert): the stack processes them, as a router must") \
	X(FP_PASS_MASQ_NO_UPLINK, 15, "pass_masq_no_uplink", "a masqueraded subnet's packet that the host routes out of an interface flatpath is not attached to: the stack forwards it untranslated (attach the uplink)") \
	X(FP_PASS_MTU, 16, "pass_mtu", "larger than the MTU of the device it goes to (an endpoint's; a masqueraded flow's route out, when it must not be fragmented): the stack fragments it or answers with fragmentation needed / packet too big, as a router must") \
	X(FP_PASS_CLUSTER_NO_ROUTE, 17, "pass_cluster_no_route", "a packet to another host's container (the cluster network) that the host's routes do not forward from here (no host has that subnet, too big, unreachable): the stack routes or answers it, untranslated") \
	X(FP_PASS_REMOTE_BACKEND, 18, "pass_remote_backend", "XDP: a packet of a published port's flow whose backend is another host's container, which only tc translates and routes: tc takes it") \
	X(FP_DROP_SPOOF_MAC, 32, "drop_spoof_mac", "a container sent a frame with a source MAC that is not its own") \
	X(FP_DROP_SPOOF_IP, 33, "drop_spoof_ip", "a container sent a packet from an address that is not registered on its device, or one arrived on an uplink from a local container's address") \
	X(FP_DROP_MALFORMED, 34, "drop_malformed", "truncated or inconsistent headers: IP lengths past the frame, bad IPv4 header checksum, TCP data offset, UDP length") \
	X(FP_DROP_NOT_ENDPOINT, 35, "drop_not_endpoint", "from_container ran on a device with no endpoint") \
	X(FP_DROP_REDIRECT, 36, "drop_redirect", "XDP: the destination device is missing from the devmap (a bug)") \
	X(FP_DROP_CT_FULL, 37, "drop_ct_full", "no conntrack entry could be written (the assured table is full): the packet is dropped, never sent on untranslated") \
	X(FP_DROP_NAT, 38, "drop_nat", "rewriting a packet failed") \
	X(FP_DROP_INTERNAL, 39, "drop_internal", "a helper failed where no packet should make it fail (a bug)") \
	X(FP_DROP_VLAN, 40, "drop_vlan", "a container sent a VLAN-tagged frame: its tags could hide a spoofed source (container links are untagged)") \
	X(FP_DROP_V4_MAPPED, 41, "drop_v4_mapped", "an IPv6 packet with an IPv4-mapped address (::ffff:0:0/96), which never travels on a link (RFC 4291): it would pass for IPv4") \
	X(FP_DROP_NO_FLOW, 42, "drop_no_flow", "a published backend's SYN-ACK for no flow flatpath knows (evicted half-open): sent on, it would leave with the backend's own address") \
	X(FP_DROP_BACKEND_OPTIONS, 43, "drop_backend_options", "a published backend's packet with IPv4 options: the stack would send it on with the backend's own address (flatpath translates no packet with options)") \
	X(FP_DROP_MASQ_PORTS, 44, "drop_masq_ports", "a new masqueraded flow found no free port in the masquerade range for its destination (all taken): dropped, established flows go on") \
	X(FP_DROP_FRAG_NEEDED, 45, "drop_frag_needed", "a masqueraded IPv4 packet without DF larger than its route's MTU: a router would fragment it after translating, which flatpath cannot, and the stack would send it on untranslated") \
	X(FP_DROP_POLICY, 46, "drop_policy", "the endpoint's policy denies the flow (flatpath policy): what it sends, or what it would receive")

#define FP_REASON_ENUMERATOR(id, value, name, meaning) id = value,
enum fp_reason {
	FP_REASON_NONE = 0,
	FP_REASON_LIST(FP_REASON_ENUMERATOR)
	FP_DROP_FIRST = 32,
	FP_REASON_MAX = 48,
};
#undef FP_REASON_ENUMERATOR

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

/* ---- trace --------------------------------------------------------------- */

/*
 * What the datapath tells a tracer (`flatpath trace`), one event per packet or flow.
 * Defined once, here: X(ENUM, VALUE, NAME, MEANING), like the reasons.
 */
#define FP_TRACE_KIND_LIST(X) \
	X(FP_TRACE_DROP, 1, "drop", "a packet dropped, with the reason") \
	X(FP_TRACE_TO_STACK, 2, "to-stack", "a packet handed to the host stack, with the reason (-v)") \
	X(FP_TRACE_FORWARD, 3, "forward", "a packet the fast path delivered, translated or sent on (-v)") \
	X(FP_TRACE_FLOW_NEW, 4, "flow-new", "a translated flow created (a published port, a masqueraded flow)") \
	X(FP_TRACE_FLOW_CLOSED, 5, "flow-closed", "a translated TCP flow closed: a reset, or a FIN each way") \
	X(FP_TRACE_FLOW_EXPIRED, 6, "flow-expired", "a translated flow past its deadline with no packet since (found by the tracer in the conntrack tables)") \
	X(FP_TRACE_POLICY_ALLOW, 7, "policy-allow", "a new flow of an endpoint with a policy, allowed (by a rule or the default); a denied packet is a drop with the reason drop_policy")

#define FP_TRACE_KIND_ENUMERATOR(id, value, name, meaning) id = value,
enum fp_trace_kind {
	FP_TRACE_KIND_LIST(FP_TRACE_KIND_ENUMERATOR)
	FP_TRACE_KIND_MAX = 32,
};
#undef FP_TRACE_KIND_ENUMERATOR

/* A packet's addresses, ports (an ICMP echo's identifier as the port, as conntrack keys it)
 * and protocol, as parsed at one point. */
struct fp_flow_tuple {
	union fp_addr saddr;
	union fp_addr daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto; /* IPPROTO_*; 0 with l3 0: no IP packet */
	__u8 l3;    /* 4, 6, or 0 */
	__u8 pad[2];
};
FP_STATIC_ASSERT(sizeof(struct fp_flow_tuple) == 40, "flow tuple size");

enum fp_trace_filter_flags {
	FP_TRACE_MATCH_ADDR = 1 << 0, /* addr must be one of the event's addresses */
};

/*
 * fp_trace_filter[0]: which events the datapath emits. kinds == 0 means nobody traces,
 * and is all a hook checks then. The other fields narrow what is emitted, in the
 * kernel, so that a trace of one container on a busy host costs the others nothing
 * past that check: each is "any" when 0.
 */
struct fp_trace_filter {
	__u32 kinds;   /* 1 << enum fp_trace_kind, for each kind wanted */
	__u32 ifindex; /* the hook's device, or the endpoint device of the source or destination */
	union fp_addr addr; /* FP_TRACE_MATCH_ADDR: a source or destination, before or after translation */
	__u32 flags;   /* enum fp_trace_filter_flags */
	__be16 port;   /* a source or destination port, before or after translation */
	__u8 proto;
	__u8 reason;   /* drop and to-stack events: only this reason */
	__u32 pid;     /* the tracing process: a filter whose process is gone is stale */
	__u32 pidns;   /* the inode of its PID namespace: a pid means something only there */
};
FP_STATIC_ASSERT(sizeof(struct fp_trace_filter) == 40, "trace filter size");

/* fp_trace_cpu: per CPU, the events lost and, while tracing, a hook's working space (off
 * BPF's small stack, which the hooks use up): the packet as the hook received it and as
 * it leaves, the flow event its exit is to send, and the key of a flow's other direction. */
struct fp_trace_cpu {
	__u64 lost;                   /* events the ring had no room for */
	struct fp_flow_tuple before;
	struct fp_flow_tuple after;
	struct fp_flow_tuple flow_orig; /* the flow's original direction */
	struct fp_flow_tuple flow_xlat; /* what that is rewritten to */
	__u8 flow_kind;                 /* enum fp_trace_kind; 0: no flow event */
	__u8 flow_ct_kind;              /* enum fp_ct_kind */
	__u8 armed;                     /* before holds the packet the hook runs for (set at its start, taken at its exit) */
	__u8 pad[5];
	struct fp_ct_key other;
};
FP_STATIC_ASSERT(sizeof(struct fp_trace_cpu) == 216, "trace cpu size");

/* One event on fp_trace_ring. */
struct fp_trace_event {
	__u64 time_ns;  /* CLOCK_MONOTONIC */
	__u32 ifindex;  /* the device the hook ran on */
	__u32 len;      /* the packet's length at the exit (flows: the first packet's) */
	__u32 mark;     /* skb->mark at the exit (tc; 0 under XDP) */
	__u32 action;   /* packets: what the program returned (TC_ACT_*, XDP_*) */
	__u8 kind;      /* enum fp_trace_kind */
	__u8 hook;      /* enum fp_hook */
	__u8 reason;    /* drop, to-stack: enum fp_reason */
	__u8 ct_kind;   /* flows: enum fp_ct_kind */
	__u32 pad;
	struct fp_flow_tuple before; /* packets: as received; flows: the original direction */
	struct fp_flow_tuple after;  /* packets: as it left; flows: what that is rewritten to */
};
FP_STATIC_ASSERT(sizeof(struct fp_trace_event) == 112, "trace event size");

#endif /* FLATPATH_ABI_H */

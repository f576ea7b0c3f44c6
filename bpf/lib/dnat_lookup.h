/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Which backend a published address and port goes to: the lookups alone, on
 * addresses, with no packet and no context, so that the packet hooks (dnat.h)
 * and the host's socket hooks (host_sockets.bpf.c) answer the same question
 * the same way.
 */
#ifndef FP_LIB_DNAT_LOOKUP_H
#define FP_LIB_DNAT_LOOKUP_H

#include <bpf/bpf_endian.h>

#include "maps.h"

static __always_inline int fp_is_local_addr(const union fp_addr *a)
{
	struct fp_local_addr_key key = { .addr = *a };

	return bpf_map_lookup_elem(&fp_local_addrs, &key) != 0;
}

/* Port ranges of one (address, protocol): a bounded scan of one map value. */
static __always_inline int fp_dnat_range_lookup(const union fp_addr *addr, __u8 proto, __u16 port,
						union fp_addr *baddr, __be16 *bport)
{
	struct fp_range_key key = { .addr = *addr, .proto = proto };
	struct fp_range_set *set = bpf_map_lookup_elem(&fp_dnat_ranges, &key);
	__u32 i;

	if (!set)
		return 0;
#pragma unroll
	for (i = 0; i < FP_MAX_RANGES; i++) {
		struct fp_port_range *r = &set->ranges[i];

		if (i >= set->count)
			break;
		if (port >= r->first && port <= r->last) {
			*baddr = r->backend;
			*bport = bpf_htons((__u16)(r->backend_first + (port - r->first)));
			return 1;
		}
	}
	return 0;
}

/*
 * The backend published on addr:port (proto): addr's own entry first, then its family's
 * "any address" entry (:: or ::ffff:0.0.0.0) when addr is the host's. local: 1 when the
 * caller knows addr is the host's, -1 to look it up (only when an "any" entry could
 * apply). *exact: the fp_dnat entry that matched, NULL for a range.
 */
static __always_inline int fp_published_backend(const union fp_addr *addr, int v4, __u8 proto, __be16 port,
						const struct fp_config *cfg, int local, union fp_addr *baddr,
						__be16 *bport, struct fp_dnat_backend **exact)
{
	struct fp_dnat_key key = { .addr = *addr, .port = port, .proto = proto };
	struct fp_dnat_backend *b = bpf_map_lookup_elem(&fp_dnat, &key);
	union fp_addr any = {};

	if (v4)
		any.w[2] = bpf_htonl(0x0000ffff);
	if (!b && cfg->dnat_any && (local > 0 || (local = fp_is_local_addr(addr)))) {
		key.addr = any;
		b = bpf_map_lookup_elem(&fp_dnat, &key);
	}
	*exact = b;
	if (b) {
		*baddr = b->addr;
		*bport = b->port;
		return 1;
	}
	if (!cfg->range_sets)
		return 0;
	if (fp_dnat_range_lookup(addr, proto, bpf_ntohs(port), baddr, bport))
		return 1;
	if (!cfg->dnat_any || local == 0 || (local < 0 && !fp_is_local_addr(addr)))
		return 0;
	return fp_dnat_range_lookup(&any, proto, bpf_ntohs(port), baddr, bport);
}

#endif

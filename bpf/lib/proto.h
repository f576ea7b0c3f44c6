/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The protocol numbers and ICMP types the datapath looks at, by name. linux/in.h has
 * the IPv4 protocols (IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_AH); the IPv6
 * extension headers and ICMP types live in headers that pull in libc under -target bpf.
 */
#ifndef FP_LIB_PROTO_H
#define FP_LIB_PROTO_H

#include <linux/in.h>

/* IPv6 next-header values: extension headers (RFC 8200) and ICMPv6. */
#define FP_NEXTHDR_HOP 0
#define FP_NEXTHDR_ROUTING 43
#define FP_NEXTHDR_FRAGMENT 44
#define FP_NEXTHDR_AUTH 51 /* IPPROTO_AH */
#define FP_NEXTHDR_ICMPV6 58
#define FP_NEXTHDR_DEST 60

/* ICMP errors, which quote the packet they are about. */
#define FP_ICMP_DEST_UNREACH 3
#define FP_ICMP_TIME_EXCEEDED 11
#define FP_ICMP_PARAMETER_PROBLEM 12
#define FP_ICMPV6_DEST_UNREACH 1
#define FP_ICMPV6_PARAMETER_PROBLEM 4 /* 2 packet too big and 3 time exceeded lie between */
#define FP_ICMP_ECHO_REPLY 0
#define FP_ICMP_ECHO 8
#define FP_ICMPV6_ECHO 128
#define FP_ICMPV6_ECHO_REPLY 129

/* Address families, as bpf_fib_lookup wants them. */
#define FP_AF_INET 2
#define FP_AF_INET6 10

#endif

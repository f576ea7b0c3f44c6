// The control plane's speed, flatpath against what the baseline uses for the same
// job: one published port added and removed with N already in place, N entries
// loaded at once, and a container's CNI ADD and DEL.
#pragma once

#include <vector>

#include "sample.hpp"
#include "testbed.hpp"

namespace fp::bench {

// kUpdateAdd / kUpdateDel on a B1 testbed (series "iptables": the iptables command,
// as portmap runs it) or an F one (series "flatpath API": the table call the CNI plugin
// makes; "flatpath CLI": the `flatpath dnat` command). Each sample is the median of
// `repeats` add+remove pairs.
std::vector<Sample> measure_updates(Testbed &tb, const BenchBinaries &bins, int run, int repeats);

// At scale: a datapath sized for and holding n endpoint addresses, n published ports, n
// mark rules and 10 x n tracked flows. kEndpointAdd / kEndpointDel (one address added to
// and removed from an endpoint, the table call the CNI plugin and the daemon make),
// kUpdateAdd / kUpdateDel for n > 10000 (one published port; smaller n are the F-tc
// testbed's), each the median of `repeats`; kMapMemory (what the maps take).
std::vector<Sample> measure_tables_at_scale(const BenchBinaries &bins, int run, int repeats, std::uint32_t n);

// kBulkLoad: n published ports and n mark rules into an empty host, by
// iptables-restore in portmap's layout and by flatpath's tables.
std::vector<Sample> measure_bulk_load(std::uint32_t n, const BenchBinaries &bins, int run);

// kCniAdd / kCniDel: flatpath-cni against Debian's bridge + portmap chain, each
// plugin executed the way a runtime does (CNI_* environment, configuration on stdin),
// one published port; each sample the median of `repeats` containers.
std::vector<Sample> measure_cni(const BenchBinaries &bins, int run, int repeats);

// kCniAddAtScale: with `containers` containers attached (each publishing a port of its
// own), the ADD of one more, `probes` times (each followed by its DEL): p50 and p99,
// flatpath-cni against bridge + portmap, each network on a host (namespace) of its own.
std::vector<Sample> measure_cni_at_scale(const BenchBinaries &bins, int run, std::uint32_t containers, int probes);

// kDaemonReconcile: `flatpath daemon` started against a runtime API with `containers`
// running containers, each on an endpoint already registered (as the CNI plugin leaves
// it) and labelled to publish one port: the reconcile's time as the daemon measures it
// (listing to last entry), on its first start (the maps hold none of its entries) and
// when restarted (they hold them all).
std::vector<Sample> measure_daemon_reconcile(const BenchBinaries &bins, int run, std::uint32_t containers);

} // namespace fp::bench

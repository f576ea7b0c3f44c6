// The multi-host comparison (issue 16): containers on two hosts (namespaces ha and hb on
// one shared link, a bridge in namespace sw), each host's containers in a subnet of the
// cluster network 10.50.0.0/16, a container on each, in a bed of their own each way:
//
//   x-route     the kernel's own routing with the routes flatpath would install (Flannel
//               host-gw's datapath): routed-mode veths, "10.50.2.0/24 via hb", no flatpath
//   x-bridge    how a Flannel host-gw host with Podman's bridge network does it: each
//               host's containers on a Linux bridge (the gateway .1), iptables FORWARD
//               accepts and MASQUERADE for traffic leaving the cluster
//   x-flatpath  a real etcd and `flatpath daemon --etcd-endpoints` on each host: leases,
//               routes and forwarding by flatpath, containers as endpoints (host-gw)
//   x-vxlan-route     Flannel vxlan's datapath: a kernel vxlan device per host with the
//               peer's MAC and address (neighbour and FDB entries), routes onto it
//   x-vxlan-flatpath  x-flatpath with the cluster's backend vxlan
//
// Measured from the container on ha to the one on hb: TCP throughput, UDP
// request/response latency, new connections per second, 64-byte UDP packet rate; on
// x-flatpath the time from a subnet lease written to etcd to its route on the other host
// (p50, p99); and on x-bridge and the flatpath beds the time from a new container's CNI
// ADD on hb until ha's container reaches it (p50, p99).
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "background_process.hpp"
#include "etcd_server.hpp"
#include "ip_addr.hpp"
#include "ip_prefix.hpp"
#include "lab.hpp"
#include "packet_rate.hpp"
#include "sample.hpp"
#include "testbed.hpp"
#include "topology.hpp"

namespace fp::bench {

enum class ClusterBed { Route, Bridge, Flatpath, VxlanRoute, VxlanFlatpath };
const char *cluster_bed_name(ClusterBed b);
inline const std::vector<ClusterBed> kAllClusterBeds = {ClusterBed::Route, ClusterBed::Bridge, ClusterBed::Flatpath,
                                                        ClusterBed::VxlanRoute, ClusterBed::VxlanFlatpath};

class ClusterTestbed {
public:
    ClusterTestbed(ClusterBed bed, const BenchBinaries &bins);
    ClusterTestbed(const ClusterTestbed &) = delete;
    ClusterTestbed &operator=(const ClusterTestbed &) = delete;
    ~ClusterTestbed();

    const std::string &client_ns() const { return client_ns_; }
    const std::string &server_ns() const { return server_ns_; }
    const IpAddr &server_addr() const { return server_addr_; }
    Lab &lab() { return *lab_; }
    // ha's container to hb's, entering ha at the container's host-side veth.
    FloodPath flood_path() const;
    // x-flatpath: `count` leases of made-up hosts written into etcd one at a time, each
    // timed until hb has its route (ms, in order).
    std::vector<double> route_delays(int count);
    // Whether the bed has a CNI network on hb (x-bridge: Debian's bridge plugin with
    // host-local addresses; the flatpath beds: flatpath-cni on the daemon's subnet.env).
    bool has_cni() const;
    // `count` new containers added to hb one at a time by its CNI plugin, each timed from
    // the start of its ADD until ha's container gets an answer from it (ms, in order).
    std::vector<double> container_delays(int count);
    // The flatpath beds, after the packet rate: a second flood timed by the kernel's BPF run
    // statistics, ha's from_container and hb's from_uplink (once per packet with host-gw;
    // twice with vxlan: the outer packet on eth0, the inner one on the tunnel device), as
    // their time per packet delivered.
    std::vector<Sample> program_times(const RxSink &sink, double seconds, int run);

private:
    void wire(const std::string &ns, int n);
    void build_kernel_host(const std::string &ns, int n);
    void build_flatpath_host(const std::string &ns, int n);
    std::string host_pin_root(int n) const;
    Container container_for(const std::string &host_ns, int n, const IpAddr &v4, bool bridge);
    nlohmann::json cni_add(const std::string &container_ns, const std::string &id);

    ClusterBed bed_;
    std::string flatpath_bin_, flatpath_cni_bin_;
    std::unique_ptr<Lab> lab_;
    std::string dir_, sw_, ha_, hb_, client_ns_, server_ns_, store_ns_;
    IpAddr server_addr_;
    Container client_; // ha's
    std::vector<IpPrefix> leased_; // x-flatpath: the hosts' subnets
    std::unique_ptr<EtcdServer> etcd_;
    std::vector<std::unique_ptr<BackgroundProcess>> daemons_;
};

std::vector<Sample> measure_cluster(ClusterBed bed, const BenchBinaries &bins, int run, double seconds);

} // namespace fp::bench

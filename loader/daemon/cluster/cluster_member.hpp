// The daemon's cluster member (multi-host, docs/cluster.md): leases this host's subnet
// in etcd and keeps the lease alive, writes subnet.env for it, and keeps the datapath's
// cluster table equal to the other hosts' subnets in etcd: a full listing after every
// (re)connect, then the watch's changes. When etcd is unreachable the datapath keeps
// what it had (routes are not dropped for an outage) and the member retries with
// backoff (250 ms doubling to 8 s); a lease that expired meanwhile is taken again, the
// same subnet when it is still free.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cluster_table.hpp"
#include "etcd_client.hpp"
#include "flannel_layout.hpp"
#include "map_set.hpp"
#include "netdev.hpp"
#include "pin_root.hpp"

namespace fp {

struct ClusterOptions {
    std::vector<std::string> etcd_endpoints;      // empty: no cluster member
    std::string prefix = "/coreos.com/network";   // Flannel's default
    std::optional<IpPrefix> cluster_network;      // written to <prefix>/config when it has none
    std::optional<IpPrefix> cluster_network6;
    std::optional<int> subnet_len;
    std::optional<IpAddr> public_ip;              // none: the address of the default route's device
    std::optional<IpAddr> public_ipv6;
    std::int64_t lease_ttl_s = 60;
    std::string subnet_file = "/run/flannel/subnet.env";
    bool ip_masq = true;                          // FLANNEL_IPMASQ in subnet.env
    std::string status_file;                      // where the member's state is written ("": nowhere)
};

// Throws fp::Error for options no member can run with (endpoints that are no URLs, a TTL
// too short): the daemon checks them before it sets anything up.
void check_cluster_options(const ClusterOptions &opts);

// What the member knows, for metrics and `flatpath cluster status` (through the daemon's
// state file). Written by the member's threads, read by anyone.
struct ClusterHealth {
    std::atomic<bool> connected{false};
    std::atomic<std::int64_t> lease_expires_ms{0}; // steady-clock ms when the lease runs out, if not renewed
    std::atomic<std::uint64_t> peers{0};
    std::atomic<std::uint64_t> resyncs{0};         // full listings applied
    std::atomic<std::uint64_t> events{0};          // watch events applied
    std::atomic<std::uint64_t> skipped_records{0}; // malformed or outside the network
    std::atomic<std::uint64_t> route_problems{0};
    std::atomic<std::uint64_t> endpoint_records{0}; // this host's endpoints recorded in etcd
    std::atomic<std::int64_t> last_event_ms{0};    // steady-clock ms of the last watch event
};

class ClusterMember {
public:
    // stop: set (by a signal handler) to end run() within a second.
    ClusterMember(const PinRoot &root, MapSet &maps, ClusterOptions opts, const std::atomic<bool> &stop);
    ClusterMember(const ClusterMember &) = delete;
    ClusterMember &operator=(const ClusterMember &) = delete;
    ~ClusterMember(); // stops and joins the threads

    // Starts the member's threads; returns at once.
    void start();
    const ClusterHealth &health() const { return health_; }
    // This host's subnet record while it holds a lease.
    std::optional<SubnetRecord> lease() const;

private:
    void run();
    void keep_alive_loop();
    // One session: lease, subnet.env, listing, watch; returns to reconnect (throws for
    // what the backoff retries).
    void session(const EtcdClient &etcd);
    ClusterConfig load_config(const EtcdClient &etcd) const;
    void apply_listing(const EtcdClient &etcd, const ClusterConfig &config, std::int64_t &revision);
    // A watch batch: peers' subnets added, changed, gone; false when this host's own record went.
    bool apply_events(const ClusterConfig &config, const std::vector<EtcdEvent> &events);
    void write_subnet_env(const ClusterConfig &config, const SubnetRecord &own) const;
    // The subnets a peer's record stands for, as this host reaches them (nothing for a
    // record of another backend, or a vxlan one without a VtepMAC: logged).
    std::vector<PeerSubnet> peers_of(const SubnetRecord &r, const ClusterConfig &config) const;
    void ensure_tunnel(const ClusterConfig &config, const IpAddr &public_ip);
    // vxlan: the tunnel device's addresses become the lease's first addresses (Flannel's
    // layout), and only those: the host's own traffic to other hosts' containers leaves
    // from an address of the cluster, which their answers come back through the tunnel to.
    void address_tunnel(const SubnetRecord &own) const;
    IpAddr public_ip() const;
    bool stopping() const;
    // The member's state as `flatpath cluster status` shows it, written atomically.
    void write_status() const;
    // This host's endpoints in the cluster networks, each a record under the lease
    // (<prefix>/flatpath/endpoints/<address>: the host and its subnet); what went is deleted.
    void sync_endpoint_records(const EtcdClient &etcd, std::int64_t lease);

    const PinRoot &root_;
    MapSet &maps_;
    ClusterTable table_;
    ClusterOptions opts_;
    const std::atomic<bool> &stop_;
    ClusterHealth health_;
    std::atomic<bool> closing_{false};    // the destructor's stop
    std::atomic<bool> runner_done_{false}; // run() returned: the keep-alive thread ends too
    std::atomic<bool> interrupt_{false};  // ends the watch: stop, or the lease was lost
    std::atomic<bool> lease_lost_{false};
    std::atomic<std::int64_t> lease_id_{0}; // the lease the keep-alive thread renews (0: none)
    std::atomic<std::int64_t> lease_ttl_{0};
    mutable std::mutex mu_;        // own_, and the status file's writes
    std::string etcd_at_;           // the endpoint that answered last (under mu_)
    std::optional<SubnetRecord> own_;
    std::set<IpAddr> recorded_;                    // the keeper's: records written under recorded_lease_
    std::int64_t recorded_lease_ = 0;
    std::optional<ClusterConfig> config_;          // under mu_: the config of the session that holds the lease
    std::optional<NetDev> tunnel_dev_;             // vxlan: this host's device (its MAC: the VtepMAC)
    std::thread runner_, keeper_;
};

} // namespace fp

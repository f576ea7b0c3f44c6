// This host's subnet lease in etcd, taken as Flannel takes it: the subnet it had
// (named by its subnet.env, or the record in etcd with this host's PublicIP) when etcd
// still has it for this host or nobody has it; else a free one of the pool, chosen at
// random. A new subnet is written with a create transaction under a fresh etcd lease,
// so two hosts racing for one subnet never both get it: the loser picks again.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "etcd_client.hpp"
#include "flannel_layout.hpp"

namespace fp {

struct HostLease {
    SubnetRecord record; // its lease field: the etcd lease the key lives under
    std::string key;     // <prefix>/subnets/<subnet key>
    std::int64_t ttl = 0;
    bool reused = false; // the host's previous subnet
};

struct LeaseRequest {
    std::string prefix;                       // "/coreos.com/network"
    IpAddr public_ip;
    std::optional<IpAddr> public_ipv6;
    std::optional<IpPrefix> previous;         // the IPv4 subnet this host had (subnet.env)
    nlohmann::json backend_data;              // the record's BackendData (vxlan: VNI, VtepMAC)
    std::int64_t ttl_s = 60;
};

class SubnetLeaser {
public:
    SubnetLeaser(const EtcdClient &etcd, const ClusterConfig &config) : etcd_(etcd), config_(config) {}

    // Throws fp::Error when etcd cannot be reached or every subnet is taken.
    // skipped: a line for each record in etcd that could not be read (it is ignored).
    HostLease acquire(const LeaseRequest &req, std::vector<std::string> &skipped);

private:
    std::optional<HostLease> try_create(const LeaseRequest &req, const IpPrefix &subnet,
                                        const std::optional<IpPrefix> &ipv6_subnet);

    const EtcdClient &etcd_;
    const ClusterConfig &config_;
    std::mt19937_64 rng_{std::random_device{}()};
};

// The records under <prefix>/subnets/ that parse and lie in the cluster network; a line
// in skipped for each other one.
std::vector<SubnetRecord> read_subnets(const EtcdRange &range, const ClusterConfig &config, std::vector<std::string> &skipped);

} // namespace fp

// The subnets a cluster network leases to hosts: every subnet of the configured length
// from SubnetMin to SubnetMax (Flannel's defaults: the network's second subnet to its
// last, so that the network address itself is never a host's), and the choice of a free
// one. Random among the free, as Flannel chooses: hosts starting together rarely race
// for one subnet, and the create transaction settles it when they do.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <set>

#include "flannel_layout.hpp"

namespace fp {

class SubnetPool {
public:
    // The IPv4 pool of config (its IPv6 pool with ipv6 = true). Throws fp::Error when
    // the network has no such family.
    SubnetPool(const ClusterConfig &config, bool ipv6);

    std::uint64_t size() const { return count_; }
    IpPrefix at(std::uint64_t index) const;
    // A subnet of the pool's length inside its range.
    bool holds(const IpPrefix &subnet) const;
    // The position of a subnet the pool holds.
    std::uint64_t index_of(const IpPrefix &subnet) const;
    // A subnet of the pool that is not in taken, chosen at random; nullopt when all are.
    std::optional<IpPrefix> pick_free(const std::set<IpPrefix> &taken, std::mt19937_64 &rng) const;

private:
    IpPrefix network_;
    int len_;
    std::uint64_t first_ = 0; // index of SubnetMin among the network's subnets
    std::uint64_t count_ = 0;
};

} // namespace fp

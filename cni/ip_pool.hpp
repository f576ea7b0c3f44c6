// The addresses a network hands out: a subnet, optionally narrowed to a range,
// minus the addresses that are not for containers (the subnet's network and
// broadcast addresses, the gateway).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ip_addr.hpp"

namespace fp::cni {

class IpPool {
public:
    // subnet "10.88.0.0/16" or "fd88::/64"; first/last narrow it (both inside the subnet).
    static IpPool parse(const std::string &subnet, const std::string &first = "", const std::string &last = "",
                        const std::string &gateway = "");

    bool contains(const IpAddr &a) const;
    bool usable(const IpAddr &a) const; // contains, and not network/broadcast/gateway
    // The same pool with addr as its gateway (no longer handed out).
    IpPool with_gateway(const IpAddr &addr) const;
    std::optional<IpAddr> gateway() const { return gateway_; }
    IpAddr first() const { return first_; }
    IpAddr last() const { return last_; }
    int prefix_len() const { return prefix_; }
    IpAddr network() const { return network_; }
    bool is_v4() const { return network_.is_v4(); }
    std::string subnet() const;
    // The address after a, wrapping from last to first.
    IpAddr next(const IpAddr &a) const;
    // How many addresses lie in [first, last] (capped at 2^32).
    std::uint64_t size() const;

private:
    IpAddr network_;
    int prefix_ = 0;
    IpAddr first_, last_;
    std::optional<IpAddr> gateway_;
};

// Address arithmetic on the 128-bit (IPv4-mapped) form.
IpAddr addr_add(const IpAddr &a, std::uint64_t n);
IpAddr addr_minus_one(const IpAddr &a);
int addr_compare(const IpAddr &a, const IpAddr &b);

} // namespace fp::cni

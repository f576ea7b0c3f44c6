// Masquerade rules: which container subnets leave the host with the host's address
// (Podman's ipMasq, iptables' MASQUERADE), out of which uplink, and to which
// destinations not.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "ip_prefix.hpp"
#include "map_set.hpp"
#include "pin_root.hpp"

namespace fp {

struct MasqRule {
    IpPrefix source;
    std::string out;              // "": any attached uplink; else an interface name
    std::vector<IpPrefix> except; // destinations left alone (besides every masqueraded subnet)

    std::string describe() const; // "10.88.0.0/16 out eth0 except 10.0.0.0/8"
    bool operator==(const MasqRule &) const = default;
};

class MasqRules {
public:
    MasqRules(const PinRoot &root, MapSet &maps) : root_(root), maps_(maps) {}

    // Refuses a second rule for the same subnet, an exception of the other family, an
    // interface that does not exist; all or nothing.
    void add(const MasqRule &rule);
    // The CNI plugin's: adds the rule unless its subnet has one already (which is then
    // left as it is, whoever made it). True when it added it.
    bool ensure(const MasqRule &rule);
    // Removes the subnet's rule, its exceptions and its masqueraded flows; returns how
    // many flows were dropped.
    std::size_t remove(const IpPrefix &source);
    // The CNI plugin's: removes the subnet's rule (and its flows) when no endpoint is left
    // in it but those in `leaving` (an ADD's own, when it is undone). Checked and done
    // under the datapath lock, so that two DELs, or a DEL and an ADD, agree. True when
    // it removed it.
    bool remove_unused(const IpPrefix &source, const std::vector<IpAddr> &leaving = {});
    std::vector<MasqRule> list() const;

private:
    void add_locked(const MasqRule &rule);
    std::size_t remove_locked(const IpPrefix &source);

    const PinRoot &root_;
    MapSet &maps_;
};

} // namespace fp

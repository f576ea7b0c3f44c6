// Mark rules: packets a container sends from (or to) an address and port get
// skb->mark set, for `ip rule fwmark` policy routing.
#pragma once

#include <cstdint>
#include <vector>

#include "ip_addr.hpp"
#include "map_set.hpp"
#include "pin_root.hpp"
#include "port_spec.hpp"

namespace fp {

struct MarkRule {
    IpAddr addr; // "::" for any address
    std::uint8_t proto = 6;
    std::uint16_t port = 0;
    fp_mark_match match = FP_MARK_SOURCE;
    MarkValue mark;

    bool any_addr() const;
    bool operator==(const MarkRule &) const = default;
    std::string matched() const;  // "from tcp 10.88.0.5:80", "to udp *:53"
    std::string describe() const; // matched() + " mark 0x2/0xff"
};

class MarkRules {
public:
    MarkRules(const PinRoot &root, MapSet &maps) : root_(root), maps_(maps) {}

    void add(const MarkRule &rule); // refuses a second rule for the same match
    // Many at once, under one lock and one config update (a bulk load): all or nothing.
    void add_all(const std::vector<MarkRule> &rules);
    void remove(const MarkRule &rule); // by its match; the mark value is not compared
    std::vector<MarkRule> list() const;
    // True when exactly this rule (match and mark) is in the table.
    bool holds(const MarkRule &rule) const;

private:
    const PinRoot &root_;
    MapSet &maps_;
};

} // namespace fp

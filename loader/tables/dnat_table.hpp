// Published ports: DNAT rules from a host address (or any of the host's
// addresses) and a port or port range to a backend endpoint. A single port is
// one fp_dnat entry; a range is one element of its (address, protocol)'s range
// set, never expanded per port.
#pragma once

#include <cstdint>
#include <vector>

#include "ip_addr.hpp"
#include "map_set.hpp"
#include "pin_root.hpp"
#include "port_spec.hpp"

namespace fp {

class Rollback;

struct DnatRule {
    IpAddr host; // the unspecified address of its family for "any host address"
    std::uint8_t proto = 6;
    PortRange ports;
    IpAddr backend;
    PortRange backend_ports;

    bool any_host() const;
    bool operator==(const DnatRule &) const = default;
    std::string published() const; // "tcp 10.99.0.1:8080" or "tcp *:8080"
};

class DnatTable {
public:
    DnatTable(const PinRoot &root, MapSet &maps) : root_(root), maps_(maps) {}

    // Refuses a family mismatch and any port already published on an overlapping address.
    void add(const DnatRule &rule);
    // Many at once, under one lock and one config update (a bulk load): all or nothing.
    void add_all(const std::vector<DnatRule> &rules);
    // Removes the rule published exactly at host/proto/ports and purges its flows; returns
    // the number of flows purged.
    std::size_t remove(const IpAddr &host, std::uint8_t proto, const PortRange &ports);
    // Removes every rule whose backend is one of backends (an endpoint that goes), with
    // its flows; one another process removed meanwhile is no error. Returns those removed.
    std::vector<DnatRule> remove_to(const std::vector<IpAddr> &backends);
    std::vector<DnatRule> list() const;
    // True when exactly this rule (published ports and backend) is in the table.
    bool holds(const DnatRule &rule) const;

private:
    // ranges_exist false: no range set anywhere, so none is looked up.
    void refuse_overlap(const DnatRule &rule, bool ranges_exist) const;
    // Writes one rule's entry, counts it in `added` and pushes its undo.
    void insert(const DnatRule &rule, fp_config &added, Rollback &undo);
    // fp_backends: one more (or one fewer) published port going to each of these ports.
    void count_backend(const IpAddr &backend, std::uint8_t proto, const PortRange &ports);
    void uncount_backend(const IpAddr &backend, std::uint8_t proto, const PortRange &ports);
    const PinRoot &root_;
    MapSet &maps_;
};

} // namespace fp

#include "dnat_table.hpp"

#include <arpa/inet.h>

#include <algorithm>

#include "config_counts.hpp"
#include "conntrack.hpp"
#include "datapath_lock.hpp"
#include "error.hpp"
#include "local_addrs.hpp"
#include "rollback.hpp"

namespace fp {

namespace {

fp_backend_key backend_key(const IpAddr &backend, std::uint8_t proto, std::uint32_t port)
{
    return fp_backend_key{backend.raw(), htons(static_cast<std::uint16_t>(port)), proto, 0};
}

fp_dnat_key exact_key(const IpAddr &host, std::uint8_t proto, std::uint16_t port)
{
    return fp_dnat_key{host.raw(), htons(port), proto, 0};
}

fp_range_key range_key(const IpAddr &host, std::uint8_t proto)
{
    return fp_range_key{host.raw(), proto, {}};
}

bool overlaps(const PortRange &a, std::uint16_t first, std::uint16_t last)
{
    return a.first <= last && first <= a.last;
}

Error already_published(std::uint8_t proto, const IpAddr &host, const std::string &ports, const IpAddr &to,
                        const std::string &to_ports)
{
    return Error(protocol_name(proto) + " " + host.with_port(ports) + " is already published (to " +
                 to.with_port(to_ports) + ")");
}

} // namespace

bool DnatRule::any_host() const
{
    return host.is_any();
}

std::string DnatRule::published() const
{
    return protocol_name(proto) + " " + host.with_port(ports.str());
}

void DnatTable::refuse_overlap(const DnatRule &rule, bool ranges_exist) const
{
    // The addresses whose ports this rule would share: its own, plus "any" for a specific
    // address, or every host address of the family for "any".
    std::vector<IpAddr> overlapping{rule.host};
    if (!rule.any_host()) {
        overlapping.push_back(rule.host.any_of_family());
    } else {
        for (const auto &[key, v] : maps_.local_addrs.entries()) {
            const IpAddr a = IpAddr::from_raw(key.addr);
            if (a.is_v4() == rule.host.is_v4())
                overlapping.push_back(a);
        }
    }
    for (const IpAddr &host : overlapping) {
        // A single port on its own address needs no lookup: the insert refuses a duplicate.
        if (!(host == rule.host && rule.ports.single())) {
            for (std::uint32_t p = rule.ports.first; p <= rule.ports.last; ++p) {
                if (const auto b = maps_.dnat.lookup(exact_key(host, rule.proto, static_cast<std::uint16_t>(p))))
                    throw already_published(rule.proto, host, std::to_string(p), IpAddr::from_raw(b->addr),
                                            std::to_string(ntohs(b->port)));
            }
        }
        if (!ranges_exist)
            continue;
        if (const auto set = maps_.ranges.lookup(range_key(host, rule.proto))) {
            for (std::uint32_t i = 0; i < set->count && i < FP_MAX_RANGES; ++i) {
                const fp_port_range &r = set->ranges[i];
                if (overlaps(rule.ports, r.first, r.last))
                    throw already_published(
                        rule.proto, host, PortRange{r.first, r.last}.str(), IpAddr::from_raw(r.backend),
                        PortRange{r.backend_first, static_cast<std::uint16_t>(r.backend_first + (r.last - r.first))}.str());
            }
        }
    }
}

void DnatTable::add(const DnatRule &rule)
{
    add_all({rule});
}

void DnatTable::add_all(const std::vector<DnatRule> &rules)
{
    for (const DnatRule &rule : rules) {
        if (rule.host.is_v4() != rule.backend.is_v4())
            throw Error("address family mismatch: " + rule.published() + " is " + (rule.host.is_v4() ? "IPv4" : "IPv6") +
                        ", backend " + rule.backend.str() + " is not");
        if (rule.ports.size() != rule.backend_ports.size())
            throw Error("published ports " + rule.ports.str() + " and backend ports " + rule.backend_ports.str() +
                        " differ in length");
    }
    DatapathLock lock(root_);
    if (std::any_of(rules.begin(), rules.end(), [](const DnatRule &r) { return r.any_host(); }))
        sync_local_addrs(maps_);
    Rollback undo; // all or nothing: a refused rule takes the ones before it back out
    fp_config added{};
    const std::uint32_t range_sets = maps_.config.lookup(0).value_or(fp_config{}).range_sets;
    for (const DnatRule &rule : rules) {
        refuse_overlap(rule, range_sets + added.range_sets > 0);
        insert(rule, added, undo);
    }
    adjust_config(maps_, [&](fp_config &c) {
        c.dnat_entries += added.dnat_entries;
        c.range_sets += added.range_sets;
        c.dnat_any += added.dnat_any;
    });
    undo.commit();
}

void DnatTable::count_backend(const IpAddr &backend, std::uint8_t proto, const PortRange &ports)
{
    for (std::uint32_t p = ports.first; p <= ports.last; ++p) {
        const fp_backend_key key = backend_key(backend, proto, p);
        try {
            maps_.backends.upsert(key, maps_.backends.lookup(key).value_or(0) + 1);
        } catch (const Error &) {
            if (p > ports.first)
                uncount_backend(backend, proto, PortRange{ports.first, static_cast<std::uint16_t>(p - 1)});
            throw Error("no room for backend port " + backend.with_port(std::to_string(p)) + " (at most " +
                        std::to_string(maps_.backends.capacity()) +
                        " published backend ports: `flatpath up --max-ports` sizes the table)");
        }
    }
}

void DnatTable::uncount_backend(const IpAddr &backend, std::uint8_t proto, const PortRange &ports)
{
    for (std::uint32_t p = ports.first; p <= ports.last; ++p) {
        const fp_backend_key key = backend_key(backend, proto, p);
        const std::uint32_t refs = maps_.backends.lookup(key).value_or(0);
        if (refs > 1)
            maps_.backends.upsert(key, refs - 1);
        else
            maps_.backends.erase(key);
    }
}

void DnatTable::insert(const DnatRule &rule, fp_config &added, Rollback &undo)
{
    count_backend(rule.backend, rule.proto, rule.backend_ports);
    undo.push("backend " + rule.backend.with_port(rule.backend_ports.str()),
              [this, rule] { uncount_backend(rule.backend, rule.proto, rule.backend_ports); });
    const std::uint32_t any = rule.any_host() ? 1 : 0;
    if (rule.ports.single()) {
        const fp_dnat_key key = exact_key(rule.host, rule.proto, rule.ports.first);
        const fp_dnat_backend b{rule.backend.raw(), htons(rule.backend_ports.first), 0, 0};
        if (!maps_.dnat.insert(key, b)) {
            const auto there = maps_.dnat.lookup(key);
            throw already_published(rule.proto, rule.host, rule.ports.str(),
                                    there ? IpAddr::from_raw(there->addr) : rule.backend,
                                    there ? std::to_string(ntohs(there->port)) : "?");
        }
        undo.push("unpublish " + rule.published(), [this, key] { maps_.dnat.erase(key); });
        added.dnat_entries++;
        added.dnat_any += any;
        return;
    }
    const fp_range_key key = range_key(rule.host, rule.proto);
    const auto existing = maps_.ranges.lookup(key);
    fp_range_set set = existing.value_or(fp_range_set{});
    if (set.count >= FP_MAX_RANGES)
        throw Error("no room for another port range on " + protocol_name(rule.proto) + " " + rule.host.str() +
                    " (at most " + std::to_string(FP_MAX_RANGES) + ")");
    set.ranges[set.count++] = fp_port_range{rule.ports.first, rule.ports.last, rule.backend_ports.first, 0,
                                            rule.backend.raw()};
    maps_.ranges.upsert(key, set);
    undo.push("unpublish " + rule.published(), [this, key, existing] {
        if (existing)
            maps_.ranges.upsert(key, *existing);
        else
            maps_.ranges.erase(key);
    });
    if (!existing) {
        added.dnat_entries++;
        added.range_sets++;
        added.dnat_any += any;
    }
}

std::vector<DnatRule> DnatTable::remove_to(const std::vector<IpAddr> &backends)
{
    std::vector<DnatRule> removed;
    for (const DnatRule &r : list()) {
        if (std::find(backends.begin(), backends.end(), r.backend) == backends.end())
            continue;
        try {
            remove(r.host, r.proto, r.ports);
            removed.push_back(r);
        } catch (const Error &) {
            if (holds(r))
                throw;
        }
    }
    return removed;
}

std::size_t DnatTable::remove(const IpAddr &host, std::uint8_t proto, const PortRange &ports)
{
    DatapathLock lock(root_);
    const bool any = host.is_any();
    const std::string what = protocol_name(proto) + " " + host.with_port(ports.str());
    IpAddr backend;
    PortRange backend_ports{};
    bool had_flows = true; // ranges do not record it
    if (ports.single()) {
        const auto b = maps_.dnat.take(exact_key(host, proto, ports.first));
        if (!b)
            throw Error("nothing is published at " + what);
        backend = IpAddr::from_raw(b->addr);
        backend_ports = {ntohs(b->port), ntohs(b->port)};
        adjust_config(maps_, [&](fp_config &c) {
            c.dnat_entries--;
            c.dnat_any -= any ? 1 : 0;
        });
        had_flows = (b->flags & FP_DNAT_HAD_FLOWS) != 0;
    } else {
        const fp_range_key key = range_key(host, proto);
        auto set = maps_.ranges.lookup(key);
        std::uint32_t at = FP_MAX_RANGES;
        for (std::uint32_t i = 0; set && i < set->count && i < FP_MAX_RANGES; ++i)
            if (set->ranges[i].first == ports.first && set->ranges[i].last == ports.last)
                at = i;
        if (at == FP_MAX_RANGES)
            throw Error("nothing is published at " + what);
        const fp_port_range r = set->ranges[at];
        backend = IpAddr::from_raw(r.backend);
        backend_ports = {r.backend_first, static_cast<std::uint16_t>(r.backend_first + (r.last - r.first))};
        std::copy(set->ranges + at + 1, set->ranges + set->count, set->ranges + at);
        set->count--;
        if (set->count > 0) {
            maps_.ranges.upsert(key, *set);
        } else {
            maps_.ranges.erase(key);
            adjust_config(maps_, [&](fp_config &c) {
                c.dnat_entries--;
                c.range_sets--;
                c.dnat_any -= any ? 1 : 0;
            });
        }
    }
    uncount_backend(backend, proto, backend_ports);
    if (!had_flows)
        return 0; // no flow was ever made through it: nothing to scan conntrack for
    // Its flows go too: none may keep pointing at a backend the rule no longer names.
    return Conntrack(maps_).purge([&](const fp_ct_key &key, const fp_ct_entry &orig) {
        const IpAddr dst = IpAddr::from_raw(key.daddr);
        const std::uint16_t dport = ntohs(key.dport);
        const std::uint16_t bport = ntohs(orig.dport);
        return key.proto == proto && dport >= ports.first && dport <= ports.last &&
               (any ? dst.is_v4() == host.is_v4() : dst == host) && IpAddr::from_raw(orig.daddr) == backend &&
               bport >= backend_ports.first && bport <= backend_ports.last;
    });
}

bool DnatTable::holds(const DnatRule &rule) const
{
    if (rule.ports.single()) {
        const auto b = maps_.dnat.lookup(exact_key(rule.host, rule.proto, rule.ports.first));
        return b && IpAddr::from_raw(b->addr) == rule.backend && ntohs(b->port) == rule.backend_ports.first;
    }
    const auto set = maps_.ranges.lookup(range_key(rule.host, rule.proto));
    for (std::uint32_t i = 0; set && i < set->count && i < FP_MAX_RANGES; ++i) {
        const fp_port_range &r = set->ranges[i];
        if (r.first == rule.ports.first && r.last == rule.ports.last)
            return IpAddr::from_raw(r.backend) == rule.backend && r.backend_first == rule.backend_ports.first;
    }
    return false;
}

std::vector<DnatRule> DnatTable::list() const
{
    std::vector<DnatRule> rules;
    for (const auto &[key, b] : maps_.dnat.entries()) {
        const std::uint16_t port = ntohs(key.port);
        rules.push_back(DnatRule{IpAddr::from_raw(key.addr), key.proto, {port, port}, IpAddr::from_raw(b.addr),
                                 {ntohs(b.port), ntohs(b.port)}});
    }
    for (const auto &[key, set] : maps_.ranges.entries()) {
        for (std::uint32_t i = 0; i < set.count && i < FP_MAX_RANGES; ++i) {
            const fp_port_range &r = set.ranges[i];
            rules.push_back(DnatRule{IpAddr::from_raw(key.addr), key.proto, {r.first, r.last}, IpAddr::from_raw(r.backend),
                                     {r.backend_first, static_cast<std::uint16_t>(r.backend_first + (r.last - r.first))}});
        }
    }
    std::sort(rules.begin(), rules.end(), [](const DnatRule &a, const DnatRule &b) {
        return std::tie(a.proto, a.ports.first, a.host) < std::tie(b.proto, b.ports.first, b.host);
    });
    return rules;
}

} // namespace fp

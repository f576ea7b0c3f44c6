#include "container_plan.hpp"

#include <algorithm>

#include "config_counts.hpp"
#include "error.hpp"

namespace fp {

namespace {

bool listed(const std::vector<LabelPort> &ports, const PublishedPort &p)
{
    return std::any_of(ports.begin(), ports.end(), [&](const LabelPort &l) {
        return l.proto == p.proto && l.ports.first <= p.container_port && p.container_port <= l.ports.last;
    });
}

// The container's IPv4 addresses on the watched network(s), by network name.
std::vector<PlannedAddress> addresses_of(const ContainerInfo &c, const LabelPolicy &policy,
                                         std::vector<std::string> &problems)
{
    std::vector<PlannedAddress> out;
    for (const auto &[network, n] : c.networks) { // std::map: by name, so "first" is stable
        if (!policy.watch_network.empty() && network != policy.watch_network)
            continue;
        if (n.ip.empty())
            continue;
        try {
            const IpAddr addr = IpAddr::parse(n.ip);
            if (!addr.is_v4())
                throw Error("not an IPv4 address");
            out.push_back({addr, MacAddr::parse(n.mac), network});
        } catch (const Error &e) {
            problems.push_back("network " + network + ": address " + n.ip + " / MAC " + n.mac + ": " + e.what());
        }
    }
    return out;
}

} // namespace

bool selected(const ContainerInfo &c, const LabelPolicy &policy)
{
    const auto it = c.labels.find(policy.enable_label);
    return it != c.labels.end() && it->second == "true";
}

ContainerPlan plan_container(const ContainerInfo &c, const LabelPolicy &policy)
{
    ContainerPlan plan{c.id, c.name, {}, {}, {}, {}};
    if (!selected(c, policy))
        return plan;
    plan.addresses = addresses_of(c, policy, plan.problems);
    if (plan.addresses.empty()) {
        plan.problems.push_back(policy.watch_network.empty() ? "no IPv4 address on any network"
                                                             : "no IPv4 address on network " + policy.watch_network);
        return plan;
    }

    std::vector<LabelPort> dnat_ports;
    if (const auto it = c.labels.find(policy.dnat_ports_label); it != c.labels.end()) {
        try {
            dnat_ports = parse_label_ports(it->second);
        } catch (const Error &e) {
            plan.problems.push_back("label " + policy.dnat_ports_label + "=" + it->second + ": " + e.what());
        }
    }
    const IpAddr &backend = plan.addresses.front().addr;
    for (const LabelPort &p : dnat_ports)
        plan.dnat.push_back(DnatRule{any_address_like(backend), p.proto, p.ports, backend, p.ports});

    if (policy.published_port_mark) {
        for (const PublishedPort &p : c.published) {
            if (listed(dnat_ports, p))
                continue;
            for (const PlannedAddress &a : plan.addresses) {
                MarkRule rule{a.addr, p.proto, p.container_port, FP_MARK_SOURCE, *policy.published_port_mark};
                const bool seen = std::any_of(plan.marks.begin(), plan.marks.end(), [&](const MarkRule &m) {
                    return m.addr == rule.addr && m.proto == rule.proto && m.port == rule.port;
                });
                if (!seen) // -p 8080:80 -p 8081:80 publish one container port twice
                    plan.marks.push_back(rule);
            }
        }
    }
    return plan;
}

} // namespace fp

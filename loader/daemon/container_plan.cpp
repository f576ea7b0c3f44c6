#include "container_plan.hpp"

#include <algorithm>

#include "error.hpp"

namespace fp {

namespace {

bool listed(const std::vector<LabelPort> &ports, const PublishedPort &p)
{
    return std::any_of(ports.begin(), ports.end(), [&](const LabelPort &l) {
        return l.proto == p.proto && l.ports.first <= p.container_port && p.container_port <= l.ports.last;
    });
}

// The container's addresses (IPv4, then IPv6) on the watched network(s), by network name.
std::vector<PlannedAddress> addresses_of(const ContainerInfo &c, const LabelPolicy &policy,
                                         std::vector<std::string> &problems)
{
    std::vector<PlannedAddress> out;
    for (const auto &[network, n] : c.networks) { // std::map: by name, so "first" is stable
        if (!policy.watch_network.empty() && network != policy.watch_network)
            continue;
        for (const auto &[text, v4] : {std::pair{n.ip, true}, std::pair{n.ip6, false}}) {
            if (text.empty())
                continue;
            try {
                const IpAddr addr = IpAddr::parse(text);
                if (addr.is_v4() != v4)
                    throw Error(std::string("not an IPv") + (v4 ? "4" : "6") + " address");
                out.push_back({addr, MacAddr::parse(n.mac), network});
            } catch (const Error &e) {
                problems.push_back("network " + network + ": address " + text + " / MAC " + n.mac + ": " + e.what());
            }
        }
    }
    return out;
}

// The first planned address of a family (the DNAT backend of that family's entries).
const PlannedAddress *first_of_family(const std::vector<PlannedAddress> &addrs, bool v4)
{
    for (const PlannedAddress &a : addrs)
        if (a.addr.is_v4() == v4)
            return &a;
    return nullptr;
}

// The policy labels' firewall: a labelled direction denies what its list does not allow
// ("" or "none": allows nothing). A list that does not parse is a problem, and that
// direction then allows nothing (closed, not open) until the label is fixed.
std::optional<EndpointPolicy> firewall_of(const ContainerInfo &c, const LabelPolicy &policy,
                                          std::vector<std::string> &problems)
{
    std::optional<EndpointPolicy> fw;
    for (const auto &[name, dir] : {std::pair{policy.policy_egress_label, FP_POLICY_OUT},
                                    std::pair{policy.policy_ingress_label, FP_POLICY_IN}}) {
        const auto it = c.labels.find(name);
        if (name.empty() || it == c.labels.end())
            continue;
        if (!fw)
            fw.emplace();
        fw->defaults[dir] = FP_POLICY_DENY;
        if (it->second.empty() || it->second == "none")
            continue;
        try {
            EndpointPolicy with = *fw;
            for (PolicyRule &r : parse_policy_list(it->second, dir, FP_POLICY_ALLOW))
                with.rules.push_back(std::move(r));
            with.validate();
            fw = std::move(with);
        } catch (const Error &e) {
            problems.push_back("label " + name + "=" + it->second + ": " + e.what() + " (nothing is allowed " +
                               (dir == FP_POLICY_OUT ? "out" : "in") + " until it is fixed)");
        }
    }
    return fw;
}

} // namespace

bool selected(const ContainerInfo &c, const LabelPolicy &policy)
{
    const auto it = c.labels.find(policy.enable_label);
    return it != c.labels.end() && it->second == "true";
}

ContainerPlan plan_container(const ContainerInfo &c, const LabelPolicy &policy)
{
    ContainerPlan plan{c.id, c.name, {}, {}, {}, std::nullopt, {}};
    if (!selected(c, policy))
        return plan;
    plan.addresses = addresses_of(c, policy, plan.problems);
    if (plan.addresses.empty()) {
        plan.problems.push_back(policy.watch_network.empty() ? "no address on any network"
                                                             : "no address on network " + policy.watch_network);
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
    // Each family's host addresses go to the container's first address of that family.
    for (const bool v4 : {true, false}) {
        const PlannedAddress *backend = first_of_family(plan.addresses, v4);
        for (const LabelPort &p : dnat_ports)
            if (backend)
                plan.dnat.push_back(DnatRule{backend->addr.any_of_family(), p.proto, p.ports, backend->addr, p.ports});
    }

    plan.firewall = firewall_of(c, policy, plan.problems);

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

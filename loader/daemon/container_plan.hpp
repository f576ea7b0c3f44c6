// What the daemon's label policy wants in the datapath for one container: pure
// functions of the runtime's inspect answer and the daemon's settings, so that every
// rule of the policy is unit-tested without a runtime.
//
// - `network.enable=true` (the label and value are settings) selects a container.
// - its addresses (IPv4 and IPv6) on the watched network (or on every network) are its
//   endpoints;
// - `network.dnat.ports=80,443/tcp,53/udp` publishes those ports on every host address
//   to the same ports of the container (of each family, its address on the first
//   watched network that has one);
// - with a published-port mark set, each port it publishes with -p whose container
//   port is not in that list gets the mark on the replies it sends from that port.
// - `network.policy.egress=10.0.0.0/8:443/tcp,1.1.1.1:53/udp` (and `network.policy.ingress=
//   :80/tcp`) makes the container's firewall: that direction denies what the list does not
//   allow (an empty list: everything); the other direction, without its label, allows all.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "container_info.hpp"
#include "dnat_table.hpp"
#include "ip_addr.hpp"
#include "mac_addr.hpp"
#include "mark_rules.hpp"
#include "policy.hpp"
#include "port_spec.hpp"

namespace fp {

struct LabelPolicy {
    std::string enable_label = "network.enable"; // selects a container when "true"
    std::string dnat_ports_label = "network.dnat.ports";
    std::string policy_egress_label = "network.policy.egress";
    std::string policy_ingress_label = "network.policy.ingress";
    std::string watch_network; // "" for every network
    std::optional<MarkValue> published_port_mark;
};

struct PlannedAddress {
    IpAddr addr;
    MacAddr mac;
    std::string network;
    bool operator==(const PlannedAddress &) const = default;
};

struct ContainerPlan {
    std::string id;
    std::string name;
    std::vector<PlannedAddress> addresses;
    std::vector<DnatRule> dnat;
    std::vector<MarkRule> marks;
    std::optional<EndpointPolicy> firewall; // from the policy labels; none without them
    // Labels the policy could not use, one line each (the rest of the plan still holds).
    std::vector<std::string> problems;
};

bool selected(const ContainerInfo &c, const LabelPolicy &policy);
// The plan of a selected container; an unselected one gets an empty plan.
ContainerPlan plan_container(const ContainerInfo &c, const LabelPolicy &policy);

} // namespace fp

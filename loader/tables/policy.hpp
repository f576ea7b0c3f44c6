// Per-endpoint policy: what an endpoint may send and receive, the host acting as its
// firewall (bpf/lib/policy.h enforces it). One policy per endpoint device, both directions,
// with a default each and up to FP_MAX_POLICY_RULES rules; deny rules win over allow rules,
// which win over the default. Every change gives the policy a new generation, so that the
// datapath decides the endpoint's existing flows again at their next packet.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "flatpath_abi.h"
#include "ip_prefix.hpp"
#include "map_set.hpp"
#include "pin_root.hpp"
#include "port_spec.hpp"

namespace fp {

struct PolicyRule {
    fp_policy_action action = FP_POLICY_ALLOW;
    fp_policy_dir dir = FP_POLICY_OUT;
    std::optional<IpPrefix> cidr; // none: any address of either family
    std::uint8_t proto = 0;       // 0 any, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP (ICMPv6 too)
    std::optional<PortRange> ports; // TCP and UDP only

    bool operator==(const PolicyRule &) const = default;
    // "deny out tcp to 10.0.0.0/8 port 443", "allow in from any"
    std::string describe() const;
    fp_policy_rule raw() const;
    static PolicyRule from_raw(const fp_policy_rule &r);
    // Throws naming the rule: ports without TCP or UDP.
    void validate() const;
};

// "tcp", "udp", "icmp" (ICMPv6 too), "any" -> 0.
std::uint8_t parse_policy_protocol(std::string_view text);
std::string policy_protocol_name(std::uint8_t proto);
fp_policy_action parse_policy_action(std::string_view text); // "allow", "deny"
std::string policy_action_name(fp_policy_action a);
std::string policy_dir_name(fp_policy_dir d); // "in", "out"

// The other side of a rule: "10.0.0.0/8", "192.0.2.7" (a /32), "fd00::/64"; "*" or "any": none.
std::optional<IpPrefix> parse_policy_peer(std::string_view text);
// One item of a label's or a conflist's list: "10.0.0.0/8:443/tcp", "10.0.0.0/8:53/udp",
// "192.0.2.7" (every protocol), "*:443" (any address; TCP when only ports are given),
// "[fd00::/64]:8000-8100/tcp", "10.0.0.0/8:icmp". Throws naming the item.
PolicyRule parse_policy_item(std::string_view text, fp_policy_dir dir, fp_policy_action action);
// A comma-separated list of items; throws naming the item that is wrong or repeated.
std::vector<PolicyRule> parse_policy_list(std::string_view text, fp_policy_dir dir, fp_policy_action action);

struct EndpointPolicy {
    fp_policy_action defaults[2] = {FP_POLICY_ALLOW, FP_POLICY_ALLOW}; // by fp_policy_dir
    std::vector<PolicyRule> rules;

    bool operator==(const EndpointPolicy &) const = default;
    // What `ps` and `policy list` show: "in allow, out deny +2".
    std::string summary() const;
    // Throws for more rules than fit, or a rule given twice.
    void validate() const;
};

class Policies {
public:
    Policies(const PinRoot &root, MapSet &maps) : root_(root), maps_(maps) {}

    // Each throws, changing nothing, when the result would be invalid or the rule is
    // (not) there already.
    void add_rule(std::uint32_t ifindex, const PolicyRule &rule);
    void remove_rule(std::uint32_t ifindex, const PolicyRule &rule);
    void set_default(std::uint32_t ifindex, fp_policy_dir dir, fp_policy_action action);
    // Replaces the endpoint's whole policy (the plugin's conflist, the daemon's labels).
    void set(std::uint32_t ifindex, const EndpointPolicy &policy);
    // Removes it: the endpoint's traffic is no longer checked. False when it had none.
    bool clear(std::uint32_t ifindex);

    std::optional<EndpointPolicy> get(std::uint32_t ifindex) const;
    std::vector<std::pair<std::uint32_t, EndpointPolicy>> list() const;

private:
    void write(std::uint32_t ifindex, const EndpointPolicy &policy, bool is_new);

    const PinRoot &root_;
    MapSet &maps_;
};

// Policies::clear for a caller that holds the datapath lock (an endpoint's removal).
bool erase_policy(MapSet &maps, std::uint32_t ifindex);

} // namespace fp

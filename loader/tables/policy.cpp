#include "policy.hpp"

#include <netinet/in.h>

#include <algorithm>
#include <chrono>

#include "config_counts.hpp"
#include "datapath_lock.hpp"
#include "error.hpp"
#include "programs.hpp"

namespace fp {

namespace {

// A policy's first generation: any value its endpoint device's earlier policies (and the
// flows they allowed) are unlikely to have had.
std::uint32_t fresh_generation()
{
    const auto ns = std::chrono::steady_clock::now().time_since_epoch().count();
    return static_cast<std::uint32_t>(ns) | 1;
}

// The 128-bit mask of a prefix on the IPv4-mapped form.
union fp_addr mask_of(int len128)
{
    union fp_addr m{};
    for (int i = 0; i < 16; ++i) {
        const int bits = std::clamp(len128 - i * 8, 0, 8);
        m.b[i] = static_cast<std::uint8_t>(0xff00 >> bits);
    }
    return m;
}

int mask_len(const union fp_addr &m)
{
    int len = 0;
    for (std::uint8_t b : m.b)
        len += __builtin_popcount(b);
    return len;
}

} // namespace

std::uint8_t parse_policy_protocol(std::string_view text)
{
    if (text == "any")
        return 0;
    if (text == "icmp" || text == "icmpv6")
        return IPPROTO_ICMP;
    if (text == "tcp" || text == "udp")
        return parse_protocol(text);
    throw Error("unknown protocol '" + std::string(text) + "' (tcp, udp, icmp or any)");
}

std::string policy_protocol_name(std::uint8_t proto)
{
    return proto == 0 ? "any" : proto == IPPROTO_ICMP ? "icmp" : protocol_name(proto);
}

fp_policy_action parse_policy_action(std::string_view text)
{
    if (text == "allow")
        return FP_POLICY_ALLOW;
    if (text == "deny")
        return FP_POLICY_DENY;
    throw Error("'" + std::string(text) + "' is no policy action (allow or deny)");
}

std::string policy_action_name(fp_policy_action a) { return a == FP_POLICY_DENY ? "deny" : "allow"; }
std::string policy_dir_name(fp_policy_dir d) { return d == FP_POLICY_IN ? "in" : "out"; }

std::string PolicyRule::describe() const
{
    std::string s = policy_action_name(action) + " " + policy_dir_name(dir);
    if (proto)
        s += " " + policy_protocol_name(proto);
    s += dir == FP_POLICY_IN ? " from " : " to ";
    s += cidr ? cidr->str() : "any";
    if (ports)
        s += " port " + ports->str();
    return s;
}

void PolicyRule::validate() const
{
    if (ports && proto != IPPROTO_TCP && proto != IPPROTO_UDP)
        throw Error("policy rule '" + describe() + "': ports need the protocol tcp or udp");
}

fp_policy_rule PolicyRule::raw() const
{
    fp_policy_rule r{};
    if (cidr) {
        r.mask = mask_of(cidr->len128());
        r.addr = cidr->network.raw();
        r.family = cidr->is_v4() ? 4 : 6;
    }
    if (ports) {
        r.port_first = ports->first;
        r.port_last = ports->last;
    }
    r.proto = proto;
    r.action = static_cast<__u8>(action);
    r.dir = static_cast<__u8>(dir);
    return r;
}

PolicyRule PolicyRule::from_raw(const fp_policy_rule &r)
{
    PolicyRule rule;
    rule.action = r.action == FP_POLICY_DENY ? FP_POLICY_DENY : FP_POLICY_ALLOW;
    rule.dir = r.dir == FP_POLICY_IN ? FP_POLICY_IN : FP_POLICY_OUT;
    rule.proto = r.proto;
    if (r.family) {
        const int len = mask_len(r.mask);
        rule.cidr = IpPrefix::of(IpAddr::from_raw(r.addr), r.family == 4 ? len - 96 : len);
    }
    if (r.port_last)
        rule.ports = PortRange{r.port_first, r.port_last};
    return rule;
}

std::optional<IpPrefix> parse_policy_peer(std::string_view text)
{
    if (text == "*" || text == "any")
        return std::nullopt;
    if (text.find('/') != std::string_view::npos)
        return IpPrefix::parse(text);
    const IpAddr addr = IpAddr::parse(text);
    return IpPrefix::of(addr, addr.is_v4() ? 32 : 128);
}

PolicyRule parse_policy_item(std::string_view text, fp_policy_dir dir, fp_policy_action action)
{
    const auto bad = [&](const std::string &why) { return Error("policy item '" + std::string(text) + "': " + why); };
    PolicyRule rule;
    rule.dir = dir;
    rule.action = action;
    std::string_view target = text, spec;
    if (text.starts_with('[')) { // [fd00::/64] or [fd00::/64]:443/tcp
        const auto close = text.find(']');
        if (close == std::string_view::npos)
            throw bad("an IPv6 address opened with '[' is not closed");
        target = text.substr(1, close - 1);
        const std::string_view rest = text.substr(close + 1);
        if (!rest.empty() && !rest.starts_with(':'))
            throw bad("want [ADDRESS]:PORTS/PROTOCOL");
        spec = rest.empty() ? rest : rest.substr(1);
    } else if (const auto colon = text.find(':'); colon != std::string_view::npos) {
        if (text.find(':', colon + 1) != std::string_view::npos)
            throw bad("write an IPv6 address in brackets: [fd00::/64]:443/tcp");
        target = text.substr(0, colon);
        spec = text.substr(colon + 1);
        if (spec.empty())
            throw bad("nothing after ':' (want PORTS[/PROTOCOL] or a protocol)");
    }
    if (target.empty())
        throw bad("no address (use * for any)");
    try {
        rule.cidr = parse_policy_peer(target);
        if (!spec.empty()) {
            const auto slash = spec.find('/');
            const std::string_view ports = spec.substr(0, slash);
            if (slash == std::string_view::npos && (ports == "tcp" || ports == "udp" || ports == "icmp" || ports == "any")) {
                rule.proto = parse_policy_protocol(ports);
            } else {
                rule.ports = parse_ports(ports);
                rule.proto = slash == std::string_view::npos ? std::uint8_t{IPPROTO_TCP}
                                                             : parse_policy_protocol(spec.substr(slash + 1));
            }
        }
        rule.validate();
    } catch (const Error &e) {
        throw bad(e.what());
    }
    return rule;
}

std::vector<PolicyRule> parse_policy_list(std::string_view text, fp_policy_dir dir, fp_policy_action action)
{
    std::vector<PolicyRule> rules;
    std::size_t start = 0;
    while (start <= text.size()) {
        const auto comma = text.find(',', start);
        const std::string_view item = text.substr(start, comma == std::string_view::npos ? text.npos : comma - start);
        if (item.empty())
            throw Error("policy list '" + std::string(text) + "': an empty item");
        PolicyRule rule = parse_policy_item(item, dir, action);
        if (std::find(rules.begin(), rules.end(), rule) != rules.end())
            throw Error("policy list '" + std::string(text) + "': '" + std::string(item) + "' is listed twice");
        rules.push_back(std::move(rule));
        if (comma == std::string_view::npos)
            break;
        start = comma + 1;
    }
    return rules;
}

std::string EndpointPolicy::summary() const
{
    std::size_t by_dir[2] = {0, 0};
    for (const PolicyRule &r : rules)
        by_dir[r.dir & 1]++;
    std::string s;
    for (fp_policy_dir d : {FP_POLICY_IN, FP_POLICY_OUT}) {
        if (!s.empty())
            s += ", ";
        s += policy_dir_name(d) + " " + policy_action_name(defaults[d]);
        if (by_dir[d])
            s += " +" + std::to_string(by_dir[d]);
    }
    return s;
}

void EndpointPolicy::validate() const
{
    if (rules.size() > FP_MAX_POLICY_RULES)
        throw Error("a policy holds at most " + std::to_string(FP_MAX_POLICY_RULES) + " rules (" +
                    std::to_string(rules.size()) + " given)");
    for (std::size_t i = 0; i < rules.size(); ++i) {
        rules[i].validate();
        if (std::find(rules.begin() + static_cast<std::ptrdiff_t>(i) + 1, rules.end(), rules[i]) != rules.end())
            throw Error("policy rule '" + rules[i].describe() + "' is given twice");
    }
}

void Policies::write(std::uint32_t ifindex, const EndpointPolicy &policy, bool is_new)
{
    policy.validate();
    // Programs from before policies never read them: a policy there would protect nothing.
    if (root_.is_up() && !ProgFd::try_open_pinned(root_, Program::ToEndpoint))
        throw Error("the datapath at " + root_.path() +
                    " predates policies (an older flatpath loaded it): run `flatpath down` and `flatpath up`");
    fp_policy raw{};
    const auto old = maps_.policy.lookup(ifindex);
    raw.generation = old ? old->generation + 1 : fresh_generation();
    raw.defaults[FP_POLICY_IN] = static_cast<__u8>(policy.defaults[FP_POLICY_IN]);
    raw.defaults[FP_POLICY_OUT] = static_cast<__u8>(policy.defaults[FP_POLICY_OUT]);
    raw.count = static_cast<__u8>(policy.rules.size());
    for (std::size_t i = 0; i < policy.rules.size(); ++i)
        raw.rules[i] = policy.rules[i].raw();
    maps_.policy.upsert(ifindex, raw);
    // Counted after the entry is there: the datapath never skips a policy it has.
    if (is_new)
        adjust_config(maps_, [](fp_config &c) { c.policies++; });
}

std::optional<EndpointPolicy> Policies::get(std::uint32_t ifindex) const
{
    const auto raw = maps_.policy.lookup(ifindex);
    if (!raw)
        return std::nullopt;
    EndpointPolicy p;
    p.defaults[FP_POLICY_IN] = raw->defaults[FP_POLICY_IN] == FP_POLICY_DENY ? FP_POLICY_DENY : FP_POLICY_ALLOW;
    p.defaults[FP_POLICY_OUT] = raw->defaults[FP_POLICY_OUT] == FP_POLICY_DENY ? FP_POLICY_DENY : FP_POLICY_ALLOW;
    for (std::size_t i = 0; i < std::min<std::size_t>(raw->count, FP_MAX_POLICY_RULES); ++i)
        p.rules.push_back(PolicyRule::from_raw(raw->rules[i]));
    return p;
}

std::vector<std::pair<std::uint32_t, EndpointPolicy>> Policies::list() const
{
    std::vector<std::pair<std::uint32_t, EndpointPolicy>> out;
    for (const auto &[ifindex, raw] : maps_.policy.entries())
        if (auto p = get(ifindex))
            out.emplace_back(ifindex, std::move(*p));
    std::sort(out.begin(), out.end(), [](const auto &a, const auto &b) { return a.first < b.first; });
    return out;
}

void Policies::add_rule(std::uint32_t ifindex, const PolicyRule &rule)
{
    DatapathLock lock(root_);
    const auto old = get(ifindex);
    EndpointPolicy p = old.value_or(EndpointPolicy{});
    if (std::find(p.rules.begin(), p.rules.end(), rule) != p.rules.end())
        throw Error("the policy has the rule '" + rule.describe() + "' already");
    p.rules.push_back(rule);
    write(ifindex, p, !old);
}

void Policies::remove_rule(std::uint32_t ifindex, const PolicyRule &rule)
{
    DatapathLock lock(root_);
    auto p = get(ifindex);
    const auto it = p ? std::find(p->rules.begin(), p->rules.end(), rule) : std::vector<PolicyRule>::iterator{};
    if (!p || it == p->rules.end())
        throw Error("the policy has no rule '" + rule.describe() + "'");
    p->rules.erase(it);
    write(ifindex, *p, false);
}

void Policies::set_default(std::uint32_t ifindex, fp_policy_dir dir, fp_policy_action action)
{
    DatapathLock lock(root_);
    const auto old = get(ifindex);
    EndpointPolicy p = old.value_or(EndpointPolicy{});
    p.defaults[dir] = action;
    write(ifindex, p, !old);
}

void Policies::set(std::uint32_t ifindex, const EndpointPolicy &policy)
{
    DatapathLock lock(root_);
    write(ifindex, policy, !maps_.policy.lookup(ifindex));
}

bool Policies::clear(std::uint32_t ifindex)
{
    DatapathLock lock(root_);
    return erase_policy(maps_, ifindex);
}

bool erase_policy(MapSet &maps, std::uint32_t ifindex)
{
    if (!maps.policy.erase(ifindex))
        return false;
    adjust_config(maps, [](fp_config &c) {
        if (c.policies)
            c.policies--;
    });
    // Its flows go too: a later policy on this device (a new endpoint that got its
    // ifindex) starts from none.
    for (const auto &[key, flow] : maps.policy_flows.entries())
        if (key.ifindex == ifindex)
            maps.policy_flows.erase(key);
    return true;
}

} // namespace fp

#include "masq_rules.hpp"

#include <algorithm>
#include <set>

#include "config_counts.hpp"
#include "conntrack.hpp"
#include "datapath_lock.hpp"
#include "error.hpp"
#include "joined.hpp"
#include "netdev.hpp"
#include "rollback.hpp"

namespace fp {

namespace {

fp_masq_key key_of(const IpPrefix &p)
{
    return fp_masq_key{static_cast<__u32>(p.len128()), p.network.raw()};
}

fp_masq_except_key except_key_of(std::uint32_t id, const IpPrefix &p)
{
    return fp_masq_except_key{static_cast<__u32>(32 + p.len128()), id, p.network.raw()};
}

IpPrefix prefix_of(const fp_addr &addr, std::uint32_t len128)
{
    const IpAddr a = IpAddr::from_raw(addr);
    return IpPrefix::of(a, a.is_v4() ? static_cast<int>(len128) - 96 : static_cast<int>(len128));
}

std::string interface_name(std::uint32_t ifindex)
{
    if (ifindex == 0)
        return "";
    const auto dev = NetDev::by_index(ifindex);
    return dev ? dev->name : "ifindex " + std::to_string(ifindex);
}

} // namespace

std::string MasqRule::describe() const
{
    std::string s = source.str();
    if (!out.empty())
        s += " out " + out;
    std::vector<std::string> excepted;
    for (const IpPrefix &p : except)
        excepted.push_back(p.str());
    if (!excepted.empty())
        s += " except " + joined(excepted);
    return s;
}

void MasqRules::add(const MasqRule &rule)
{
    DatapathLock lock(root_);
    add_locked(rule);
}

bool MasqRules::ensure(const MasqRule &rule)
{
    DatapathLock lock(root_);
    if (maps_.masq.lookup(key_of(rule.source)))
        return false;
    add_locked(rule);
    return true;
}

void MasqRules::add_locked(const MasqRule &rule)
{
    // Validated before anything changes.
    for (const IpPrefix &e : rule.except)
        if (e.is_v4() != rule.source.is_v4())
            throw Error("exception " + e.str() + " is not of " + rule.source.str() + "'s address family");
    const std::uint32_t out_ifindex = rule.out.empty() ? 0 : NetDev::by_name(rule.out).ifindex;
    std::set<std::uint32_t> ids;
    for (const auto &[key, r] : maps_.masq.entries()) {
        if (key.prefixlen == key_of(rule.source).prefixlen && IpAddr::from_raw(key.addr) == rule.source.network)
            throw Error("a masquerade rule for " + rule.source.str() + " exists already");
        ids.insert(r.id);
    }
    std::uint32_t id = 1;
    while (ids.contains(id))
        ++id;

    Rollback undo; // all or nothing
    for (const IpPrefix &e : rule.except) {
        const fp_masq_except_key k = except_key_of(id, e);
        if (!maps_.masq_except.insert(k, 1))
            continue; // listed twice
        undo.push("remove masquerade exception " + e.str(), [this, k] { maps_.masq_except.erase(k); });
    }
    if (!maps_.masq.insert(key_of(rule.source), fp_masq_rule{id, out_ifindex}))
        throw Error("a masquerade rule for " + rule.source.str() + " exists already");
    undo.push("remove masquerade rule " + rule.source.str(),
              [this, k = key_of(rule.source)] { maps_.masq.erase(k); });
    adjust_config(maps_, [](fp_config &c) { c.masq_rules++; });
    undo.commit();
}

std::size_t MasqRules::remove(const IpPrefix &source)
{
    DatapathLock lock(root_);
    return remove_locked(source);
}

bool MasqRules::remove_unused(const IpPrefix &source, const std::vector<IpAddr> &leaving)
{
    DatapathLock lock(root_);
    if (!maps_.masq.lookup(key_of(source)))
        return false;
    for (const auto &[key, ep] : maps_.endpoints.entries()) {
        const IpAddr a = IpAddr::from_raw(key.addr);
        if (source.contains(a) && std::find(leaving.begin(), leaving.end(), a) == leaving.end())
            return false;
    }
    remove_locked(source);
    return true;
}

std::size_t MasqRules::remove_locked(const IpPrefix &source)
{
    const auto rule = maps_.masq.lookup(key_of(source)); // (an LPM trie has no lookup-and-delete)
    if (!rule)
        throw Error("no masquerade rule for " + source.str());
    maps_.masq.erase(key_of(source));
    adjust_config(maps_, [](fp_config &c) { c.masq_rules--; });
    for (const auto &[key, v] : maps_.masq_except.entries())
        if (key.rule_id == rule->id)
            maps_.masq_except.erase(key);
    // Its flows would go on masqueraded: dropped, as a removed iptables rule's flows are
    // not (Linux keeps NAT for existing connections), because a rule removed with
    // `masq del` usually means its network is gone.
    return Conntrack(maps_).purge([&](const fp_ct_key &key, const fp_ct_entry &orig) {
        return orig.kind == FP_CT_KIND_MASQ && source.contains(IpAddr::from_raw(key.saddr));
    });
}

std::vector<MasqRule> MasqRules::list() const
{
    std::vector<MasqRule> rules;
    const auto excepts = maps_.masq_except.entries();
    for (const auto &[key, r] : maps_.masq.entries()) {
        MasqRule rule{prefix_of(key.addr, key.prefixlen), interface_name(r.out_ifindex), {}};
        for (const auto &[ekey, v] : excepts)
            if (ekey.rule_id == r.id)
                rule.except.push_back(prefix_of(ekey.addr, ekey.prefixlen - 32));
        std::sort(rule.except.begin(), rule.except.end());
        rules.push_back(std::move(rule));
    }
    std::sort(rules.begin(), rules.end(),
              [](const MasqRule &a, const MasqRule &b) { return a.source < b.source; });
    return rules;
}

} // namespace fp

#include "mark_rules.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>

#include "config_counts.hpp"
#include "datapath_lock.hpp"
#include "error.hpp"
#include "rollback.hpp"

namespace fp {

namespace {

fp_mark_key key_of(const MarkRule &r)
{
    return fp_mark_key{r.addr.raw(), htons(r.port), r.proto, static_cast<__u8>(r.match)};
}

} // namespace

bool MarkRule::any_addr() const
{
    return addr == IpAddr::parse("::"); // one "any" for both families: a mark translates nothing
}

std::string MarkRule::matched() const
{
    const std::string host = any_addr() ? "*" : addr.is_v4() ? addr.str() : "[" + addr.str() + "]";
    return std::string(match == FP_MARK_SOURCE ? "from " : "to ") + protocol_name(proto) + " " + host + ":" +
           std::to_string(port);
}

std::string MarkRule::describe() const
{
    return matched() + " mark " + mark_hex(mark.value) + "/" + mark_hex(mark.mask);
}

void MarkRules::add(const MarkRule &rule)
{
    add_all({rule});
}

void MarkRules::add_all(const std::vector<MarkRule> &rules)
{
    DatapathLock lock(root_);
    Rollback undo; // all or nothing
    for (const MarkRule &rule : rules) {
        const fp_mark_key key = key_of(rule);
        if (!maps_.marks.insert(key, fp_mark{rule.mark.value, rule.mark.mask})) {
            const auto m = maps_.marks.lookup(key);
            throw Error("a mark rule " + rule.matched() + " exists already" +
                        (m ? " (mark " + mark_hex(m->value) + "/" + mark_hex(m->mask) + ")" : ""));
        }
        undo.push("remove mark rule " + rule.matched(), [this, key] { maps_.marks.erase(key); });
    }
    adjust_config(maps_, [&](fp_config &c) {
        for (const MarkRule &rule : rules)
            count_mark_rule(c, key_of(rule), 1);
    });
    undo.commit();
}

void MarkRules::remove(const MarkRule &rule)
{
    DatapathLock lock(root_);
    const fp_mark_key key = key_of(rule);
    if (!maps_.marks.erase(key))
        throw Error("no mark rule " + rule.matched());
    adjust_config(maps_, [&](fp_config &c) { count_mark_rule(c, key, -1); });
}

bool MarkRules::holds(const MarkRule &rule) const
{
    const auto m = maps_.marks.lookup(key_of(rule));
    return m && m->value == rule.mark.value && m->mask == rule.mark.mask;
}

std::vector<MarkRule> MarkRules::list() const
{
    std::vector<MarkRule> rules;
    for (const auto &[key, m] : maps_.marks.entries())
        rules.push_back(MarkRule{IpAddr::from_raw(key.addr), key.proto, ntohs(key.port),
                                 static_cast<fp_mark_match>(key.match), MarkValue{m.value, m.mask}});
    std::sort(rules.begin(), rules.end(), [](const MarkRule &a, const MarkRule &b) {
        return std::tie(a.match, a.proto, a.port, a.addr) < std::tie(b.match, b.proto, b.port, b.addr);
    });
    return rules;
}

} // namespace fp

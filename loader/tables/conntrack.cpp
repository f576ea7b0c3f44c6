#include "conntrack.hpp"

#include <algorithm>
#include <string>
#include <time.h>
#include <unordered_map>

namespace fp {

namespace {

// The key of the packets that travel back towards an entry's translated addresses: an
// original entry's reply key, or a reply entry's original key.
fp_ct_key key_back_to(const fp_ct_entry &e, std::uint8_t proto, fp_ct_dir dir)
{
    fp_ct_key k{};
    k.saddr = e.daddr;
    k.daddr = e.saddr;
    k.sport = e.dport;
    k.dport = e.sport;
    k.proto = proto;
    k.dir = static_cast<__u8>(dir);
    return k;
}

// Expired flows of one table; returns the entries removed and the entries it had.
std::pair<std::size_t, std::size_t> collect_in(CtMap &table, std::uint64_t now_ns)
{
    std::size_t n = 0;
    const auto entries = table.entries();
    for (const auto &[key, entry] : entries) {
        if (entry.expires_ns > now_ns)
            continue;
        if (key.dir == FP_CT_ORIGINAL) {
            // The flow lives as long as either direction does.
            const fp_ct_key rk = reply_key(key, entry);
            const auto reply = table.lookup(rk);
            if (reply && reply->expires_ns > now_ns)
                continue;
            n += table.erase(key);
            if (reply)
                n += table.erase(rk);
        } else {
            // A reply entry goes by itself only when it has no live original: the original's
            // own pass removes pairs.
            const auto orig = table.lookup(key_back_to(entry, key.proto, FP_CT_ORIGINAL));
            if (!orig || orig->expires_ns <= now_ns)
                n += table.erase(key);
        }
    }
    return {n, entries.size()};
}

} // namespace

std::string_view ct_kind_name(std::uint8_t kind)
{
    return kind == FP_CT_KIND_MASQ ? "masq" : kind == FP_CT_KIND_DNAT_REMOTE ? "dnat-remote" : "dnat";
}

fp_ct_key reply_key(const fp_ct_key &orig_key, const fp_ct_entry &orig)
{
    return key_back_to(orig, orig_key.proto, FP_CT_REPLY);
}

std::uint64_t monotonic_ns()
{
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
}

std::vector<Flow> Conntrack::flows() const
{
    std::vector<Flow> out;
    for (CtMap *table : tables())
        for (const auto &[key, entry] : table->entries())
            if (key.dir == FP_CT_ORIGINAL)
                out.push_back(Flow{key, entry, table->lookup(reply_key(key, entry)), table == &maps_.ct});
    return out;
}

std::vector<Flow> Conntrack::expired_between(std::uint64_t after_ns, std::uint64_t until_ns) const
{
    const auto bytes_of = [](const fp_ct_key &k) { return std::string(reinterpret_cast<const char *>(&k), sizeof k); };
    std::vector<Flow> out;
    for (CtMap *table : tables()) {
        const auto entries = table->entries();
        std::unordered_map<std::string, const fp_ct_entry *> replies;
        for (const auto &[key, entry] : entries)
            if (key.dir == FP_CT_REPLY)
                replies.emplace(bytes_of(key), &entry);
        for (const auto &[key, entry] : entries) {
            if (key.dir != FP_CT_ORIGINAL || (entry.flags & FP_CT_DIRECT))
                continue;
            const auto it = replies.find(bytes_of(reply_key(key, entry)));
            const fp_ct_entry *reply = it == replies.end() ? nullptr : it->second;
            const std::uint64_t deadline = std::max(entry.expires_ns, reply ? reply->expires_ns : 0);
            if (deadline > after_ns && deadline <= until_ns)
                out.push_back(Flow{key, entry, reply ? std::optional(*reply) : std::nullopt, table == &maps_.ct});
        }
    }
    return out;
}

std::size_t Conntrack::purge(const std::function<bool(const fp_ct_key &, const fp_ct_entry &)> &doomed)
{
    std::size_t n = 0;
    for (CtMap *table : tables())
        for (const auto &[key, entry] : table->entries()) {
            if (key.dir != FP_CT_ORIGINAL || !doomed(key, entry))
                continue;
            table->erase(key);
            table->erase(reply_key(key, entry));
            ++n;
        }
    return n;
}

std::size_t Conntrack::collect_expired(std::uint64_t now_ns, CtFill *remaining)
{
    const auto [assured_gone, assured_had] = collect_in(maps_.ct, now_ns);
    const auto [new_gone, new_had] = collect_in(maps_.ct_new, now_ns);
    if (remaining)
        *remaining = CtFill{assured_had - std::min(assured_gone, assured_had), new_had - std::min(new_gone, new_had)};
    return assured_gone + new_gone;
}

std::size_t Conntrack::flush()
{
    std::size_t n = 0;
    for (CtMap *table : tables())
        for (const auto &[key, entry] : table->entries())
            n += table->erase(key);
    return n;
}

} // namespace fp

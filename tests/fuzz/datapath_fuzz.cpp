// The differential fuzzer: the production programs (BPF_PROG_TEST_RUN) against
// the reference model, frame by frame, on random worlds. Each disagreement and
// each broken invariant prints a reproducer; the exit status is 1 if there was any.
#include <bpf/bpf.h>
#include <linux/pkt_cls.h>
#include <netinet/in.h>
#include <time.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <map>
#include <optional>
#include <memory>
#include <random>
#include <set>
#include <sstream>

#include "checksum.hpp"
#include "counters.hpp"
#include "fuzz_frames.hpp"
#include "fuzz_world.hpp"
#include "map_set.hpp"
#include "programs.hpp"
#include "reference_model.hpp"

namespace fp::fuzz {
namespace {

std::uint64_t coarse_now()
{
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

fp_hook abi_hook(Hook h)
{
    return h == Hook::XdpUplink ? FP_HOOK_XDP_UPLINK : h == Hook::TcUplink ? FP_HOOK_TC_UPLINK : FP_HOOK_TC_ENDPOINT;
}

std::string hex(const Bytes &b)
{
    std::ostringstream out;
    char h[4];
    for (std::uint8_t c : b) {
        std::snprintf(h, sizeof h, "%02x", c);
        out << h;
    }
    return out.str();
}

std::string action_name(Outcome::Action a) { return a == Outcome::Pass ? "pass" : a == Outcome::Drop ? "drop" : "redirect"; }

std::string verdict(Outcome::Action a, std::uint32_t reason)
{
    return a == Outcome::Redirect ? "redirect" : action_name(a) + " (" + std::string(reason_name(reason)) + ")";
}

struct Kernel {
    bool ran = false; // false: the kernel refused the test run (skb frames shorter than their IP header)
    Outcome::Action action = Outcome::Pass;
    Bytes out;
    std::uint32_t mark = 0;
    std::uint32_t retval = 0;
    bool known = true; // a verdict the programs return (pass, drop, redirect)
};

class Fuzzer {
public:
    Fuzzer(std::uint64_t seed, unsigned per_world) : seed_(seed), per_world_(per_world)
    {
        devs_ = test::enter_prog_world();
        progs_ = std::make_unique<LoadedPrograms>(LoadedPrograms::load(""));
        maps_ = std::make_unique<MapSet>(MapSet::from_fds([&](const char *name) { return progs_->map_fd(name); }));
    }

    // Runs world number `world` of this seed; returns its disagreements.
    unsigned run_world(std::uint64_t world)
    {
        std::mt19937_64 rng(seed_ * 0x9e3779b97f4a7c15ull + world);
        World model = random_world(rng, devs_, coarse_now());
        model.write_to(*maps_);
        unsigned bad = 0;
        for (unsigned i = 0; i < per_world_; ++i) {
            const Shot shot = next_shot(rng, model);
            if (!one_frame(model, shot)) {
                ++bad;
                std::cout << "  reproduce: datapath_fuzz --seed " << seed_ << " --first-world " << world
                          << " --worlds 1 --frames-per-world " << i + 1 << "\n\n";
                resync(model);
            }
        }
        // Whatever else the tables hold: nothing the model does not know of.
        const std::string rest = ct_diff("fp_ct", model.ct, read_table(maps_->ct)) +
                                 ct_diff("fp_ct_new", model.ct_new, read_table(maps_->ct_new));
        if (!rest.empty()) {
            ++bad;
            std::cout << "DISAGREEMENT at the end of world " << world << " (seed " << seed_ << "):\n" << rest << "\n";
        }
        return bad;
    }

    std::uint64_t compared() const { return compared_; }
    std::uint64_t refused() const { return refused_; }
    std::uint64_t unknown() const { return unknown_; }
    // How often each hook's verdict came up: what the run covered.
    const std::map<std::string, std::uint64_t> &seen() const { return seen_; }

private:
    Kernel run_kernel(const Shot &s)
    {
        const Program p = s.hook == Hook::XdpUplink ? Program::XdpUplink
                          : s.hook == Hook::TcUplink ? Program::TcUplink
                                                     : Program::TcEndpoint;
        const ProgRun t = run_program(progs_->prog_fd(p), s.hook == Hook::XdpUplink, s.dev.ifindex, s.frame);
        Kernel k;
        if (t.error)
            return k;
        k.ran = true;
        k.out = t.out;
        k.mark = t.mark;
        const std::uint32_t r = t.retval;
        if (s.hook == Hook::XdpUplink)
            k.action = r == XDP_PASS ? Outcome::Pass : r == XDP_DROP ? Outcome::Drop : Outcome::Redirect;
        else
            k.action = r == TC_ACT_OK ? Outcome::Pass : r == TC_ACT_SHOT ? Outcome::Drop : Outcome::Redirect;
        k.retval = r;
        k.known = s.hook == Hook::XdpUplink ? r == XDP_PASS || r == XDP_DROP || r == XDP_REDIRECT
                                            : r == TC_ACT_OK || r == TC_ACT_SHOT || r == TC_ACT_REDIRECT;
        return k;
    }

    std::uint64_t reason_count(Hook h, std::uint32_t reason)
    {
        return sum_per_cpu(maps_->reasons.per_cpu(reason_index(abi_hook(h), reason))).packets;
    }

    std::vector<fp_ep_stats> slots()
    {
        std::vector<fp_ep_stats> v;
        for (std::uint32_t s = 0; s <= 4; ++s)
            v.push_back(sum_per_cpu(maps_->ep_stats.per_cpu(s)));
        return v;
    }

    // Frames compared with equal outputs, except that a checksum field may hold either zero.
    static bool same_frame(const Outcome &o, const Bytes &got)
    {
        if (o.out.size() != got.size())
            return false;
        for (std::size_t i = 0; i < got.size(); ++i) {
            if (o.out[i] == got[i])
                continue;
            bool in_sum = false;
            for (std::size_t s : o.sums)
                if (i == s || i == s + 1) {
                    const std::uint16_t a = load16(o.out, s), b = load16(got, s);
                    in_sum = (a == 0 || a == 0xffff) && (b == 0 || b == 0xffff);
                }
            if (!in_sum)
                return false;
        }
        return true;
    }

    static std::string ct_diff(const char *table, const CtTable &want, const CtTable &got)
    {
        std::ostringstream out;
        const auto show = [](const fp_ct_entry &e) {
            std::ostringstream s;
            s << IpAddr::from_raw(e.saddr).str() << " " << ntohs(e.sport) << " > " << IpAddr::from_raw(e.daddr).str() << " "
              << ntohs(e.dport) << " flags 0x" << std::hex << int(e.flags) << std::dec << " ack " << e.handshake_ack
              << " packets " << e.packets << " bytes " << e.bytes;
            return s.str();
        };
        const auto key = [](const fp_ct_key &k) {
            std::ostringstream s;
            s << (k.dir ? "reply " : "orig ") << int(k.proto) << " " << IpAddr::from_raw(k.saddr).str() << " "
              << ntohs(k.sport) << " > " << IpAddr::from_raw(k.daddr).str() << " " << ntohs(k.dport);
            return s.str();
        };
        for (const auto &[k, e] : want) {
            auto it = got.find(k);
            if (it == got.end())
                out << "    " << table << " lacks " << key(k) << " => " << show(e) << "\n";
            else if (!same_entry(e, it->second))
                out << "    " << table << " " << key(k) << ": want " << show(e) << " (expires +"
                    << static_cast<long long>(e.expires_ns - coarse_now()) / 1000000 << " ms), got " << show(it->second)
                    << " (+" << static_cast<long long>(it->second.expires_ns - coarse_now()) / 1000000 << " ms)\n";
        }
        for (const auto &[k, e] : got)
            if (!want.count(k))
                out << "    " << table << " has " << key(k) << " => " << show(e) << " too\n";
        return out.str();
    }

    static bool same_entry(const fp_ct_entry &a, const fp_ct_entry &b)
    {
        const std::int64_t dt = static_cast<std::int64_t>(a.expires_ns - b.expires_ns);
        return std::memcmp(&a.saddr, &b.saddr, 16) == 0 && std::memcmp(&a.daddr, &b.daddr, 16) == 0 &&
               a.sport == b.sport && a.dport == b.dport && a.flags == b.flags && a.packets == b.packets &&
               a.bytes == b.bytes && a.handshake_ack == b.handshake_ack && dt < 200'000'000 && dt > -200'000'000;
    }

    // The entries of m under the keys a frame can have touched: those the model knows of
    // before and after it, and the frame's own tuple both ways (a full read walks all
    // 262,144 buckets: it is done once per world).
    static CtTable read_keys(const CtMap &m, const World &before, const World &after, const Bytes &frame)
    {
        std::set<fp_ct_key, RawLess<fp_ct_key>> keys;
        for (const World *w : {&before, &after})
            for (const CtTable *t : {&w->ct, &w->ct_new})
                for (const auto &kv : *t)
                    keys.insert(kv.first);
        for (const fp_ct_key &k : frame_keys(frame))
            keys.insert(k);
        CtTable t;
        for (const fp_ct_key &k : keys)
            if (auto v = m.lookup(k))
                t[k] = *v;
        return t;
    }

    // A frame's own tuple as a conntrack key (direction original): untagged IPv4 with
    // any header length (not a later fragment, which has no ports) or IPv6 without
    // extension headers, with the first four transport bytes as ports.
    static std::optional<fp_ct_key> frame_tuple(const Bytes &f)
    {
        fp_ct_key k{};
        std::size_t l4 = 0;
        if (f.size() >= 34 && load16(f, 12) == 0x0800) {
            if (load16(f, 20) & 0x1fff)
                return std::nullopt;
            k.saddr.w[2] = k.daddr.w[2] = htonl(0xffff);
            std::memcpy(&k.saddr.b[12], &f[26], 4);
            std::memcpy(&k.daddr.b[12], &f[30], 4);
            k.proto = f[23];
            l4 = 14 + (f[14] & 0xfu) * 4;
        } else if (f.size() >= 54 && load16(f, 12) == 0x86dd) {
            std::memcpy(k.saddr.b, &f[22], 16);
            std::memcpy(k.daddr.b, &f[38], 16);
            k.proto = f[20];
            l4 = 54;
        } else {
            return std::nullopt;
        }
        if (f.size() < l4 + 4)
            return std::nullopt;
        std::memcpy(&k.sport, &f[l4], 2);
        std::memcpy(&k.dport, &f[l4 + 2], 2);
        return k;
    }

    // The frame's tuple as both directions' keys, reversed too.
    static std::vector<fp_ct_key> frame_keys(const Bytes &f)
    {
        const auto k = frame_tuple(f);
        if (!k)
            return {};
        fp_ct_key r = *k;
        std::swap(r.saddr, r.daddr);
        std::swap(r.sport, r.dport);
        std::vector<fp_ct_key> out;
        for (fp_ct_key key : {*k, r})
            for (std::uint8_t dir : {FP_CT_ORIGINAL, FP_CT_REPLY}) {
                key.dir = dir;
                out.push_back(key);
            }
        return out;
    }

    static CtTable read_table(const CtMap &m)
    {
        CtTable t;
        for (const auto &[k, v] : m.entries())
            t[k] = v;
        return t;
    }

    // The independent checks, whatever the model says. "" when they hold.
    std::string invariants(const World &before, const Shot &s, const Kernel &k, const std::vector<fp_ep_stats> &was,
                           const std::vector<fp_ep_stats> &now)
    {
        std::ostringstream bad;
        const Bytes &in = s.frame, &out = k.out;
        const bool ip4 = out.size() >= 34 && load16(out, 12) == 0x0800 && (out[14] & 0xf) == 5;
        const bool ip6 = out.size() >= 54 && load16(out, 12) == 0x86dd;
        if (k.action == Outcome::Redirect && ip4 && !checksum_ok(out, 14, 34))
            bad << "    a forwarded frame's IPv4 header checksum is wrong\n";
        // L4 checksums that were right stay right (complete TCP/UDP segments right after the header).
        if (k.action != Outcome::Drop && (ip4 || ip6) && in.size() == out.size()) {
            const std::size_t l3 = 14, l4 = ip4 ? 34 : 54;
            const std::uint8_t proto = ip4 ? in[23] : in[20];
            const std::size_t end = l3 + (ip4 ? load16(in, 16) : 40u + load16(in, 18));
            const bool whole = (proto == IPPROTO_TCP || proto == IPPROTO_UDP) && end <= in.size() && end > l4 + 8 &&
                               (!ip4 || (load16(in, 20) & 0x3fff) == 0) && load16(in, l4 + (proto == 6 ? 16 : 6)) != 0;
            if (whole && checksum_ok(in, l4, end, pseudo_header(in, l3, proto, end - l4)) &&
                !checksum_ok(out, l4, end, pseudo_header(out, l3, proto, end - l4)))
                bad << "    a right L4 checksum became wrong\n";
        }
        // Delivered to an endpoint: the one that owns the destination, at its own MAC.
        for (std::uint32_t slot = 1; slot <= 4; ++slot) {
            if (now[slot].to_packets == was[slot].to_packets)
                continue;
            const Endpoint *ep = nullptr;
            for (const Endpoint &e : before.endpoints)
                if (e.slot == slot)
                    ep = &e;
            fp_addr dst{};
            if (ip4) {
                dst.w[2] = htonl(0xffff);
                std::memcpy(&dst.b[12], &out[30], 4);
            } else if (ip6) {
                std::memcpy(dst.b, &out[38], 16);
            }
            if (!ep || before.endpoint_of(dst) != ep || std::memcmp(out.data(), ep->dev.peer_mac.bytes().data(), 6) != 0)
                bad << "    a frame went to slot " << slot << ", which is not its destination\n";
        }
        if (s.hook == Hook::TcEndpoint && k.action != Outcome::Drop) {
            const Endpoint *sender = before.endpoint_on(s.dev.ifindex);
            const std::uint16_t type = in.size() >= 14 ? load16(in, 12) : 0;
            if (type == 0x8100 || type == 0x88a8)
                bad << "    a tagged frame from a container was not dropped\n";
            if (in.size() >= 14 && (!sender || std::memcmp(&in[6], sender->dev.peer_mac.bytes().data(), 6) != 0))
                bad << "    a frame with another source MAC left a container\n";
            fp_addr src{};
            bool routable = false;
            if (type == 0x0800 && in.size() >= 34) {
                src.w[2] = htonl(0xffff);
                std::memcpy(&src.b[12], &in[26], 4);
                routable = true;
            } else if (type == 0x86dd && in.size() >= 54) {
                std::memcpy(src.b, &in[22], 16);
                routable = !((src.b[0] == 0xfe && (src.b[1] & 0xc0) == 0x80) || (src.w[0] | src.w[1] | src.w[2] | src.w[3]) == 0);
            }
            if (routable && before.endpoint_of(src) != sender)
                bad << "    a packet from an address not its sender's left a container\n";
            // A reply of a live translated flow never leaves with the backend's own address.
            const bool source_kept = routable && out.size() >= in.size() &&
                                     std::memcmp(&in[type == 0x0800 ? 26 : 22], &out[type == 0x0800 ? 26 : 22],
                                                 type == 0x0800 ? 4 : 16) == 0;
            auto key = source_kept ? frame_tuple(in) : std::nullopt;
            if (key && (key->proto == IPPROTO_TCP || key->proto == IPPROTO_UDP)) {
                key->dir = FP_CT_REPLY;
                const std::uint64_t t = coarse_now();
                for (const CtTable *table : {&before.ct, &before.ct_new}) {
                    auto it = table->find(*key);
                    if (it != table->end() && it->second.expires_ns > t + 1'000'000'000ull &&
                        !(it->second.flags & FP_CT_DIRECT) && std::memcmp(&it->second.saddr, &src, 16) != 0)
                        bad << "    a translated flow's reply left with the backend's own address\n";
                }
            }
        }
        return bad.str();
    }

    // One frame through kernel and model; false (after printing why) when they differ.
    bool one_frame(World &model, const Shot &s)
    {
        const World before = model;
        const std::vector<fp_ep_stats> was = slots();
        const std::uint64_t now = coarse_now();
        Outcome want = ReferenceModel(model).run(s.hook, s.dev.ifindex, s.frame, now);
        const bool counted = want.action != Outcome::Redirect;
        const std::uint64_t reason_before = counted ? reason_count(s.hook, want.reason) : 0;
        const Kernel k = run_kernel(s);
        if (!k.ran) {
            ++refused_;
            model = before; // nothing ran
            return true;
        }
        if (!want.known) {
            ++unknown_;
            resync(model);
            return true;
        }
        ++compared_;
        ++seen_[hook_name(s.hook) + ": " + verdict(want.action, want.reason)];
        std::ostringstream why;
        if (!k.known)
            why << "    verdict: the program returned " << k.retval << ", which it never should\n";
        else if (k.action != want.action)
            why << "    verdict: want " << verdict(want.action, want.reason) << ", got " << action_name(k.action) << "\n";
        else if (counted && reason_count(s.hook, want.reason) != reason_before + 1)
            why << "    reason: want " << std::string(reason_name(want.reason)) << ", which was not counted\n";
        if (!same_frame(want, k.out))
            why << "    frame:\n" << hex_diff(want.out, k.out);
        if (s.hook != Hook::XdpUplink && k.mark != want.mark)
            why << "    mark: want 0x" << std::hex << want.mark << ", got 0x" << k.mark << std::dec << "\n";
        const std::vector<fp_ep_stats> now_slots = slots();
        for (std::uint32_t slot = 1; slot <= 4; ++slot) {
            const std::uint64_t from = now_slots[slot].from_packets - was[slot].from_packets;
            const std::uint64_t to = now_slots[slot].to_packets - was[slot].to_packets;
            if (from != (want.from_slot == slot ? 1u : 0u) || to != (want.to_slot == slot ? 1u : 0u))
                why << "    slot " << slot << " counters: from +" << from << " to +" << to << ", want from slot "
                    << want.from_slot << " to slot " << want.to_slot << "\n";
        }
        why << ct_diff("fp_ct", model.ct, read_keys(maps_->ct, before, model, s.frame))
            << ct_diff("fp_ct_new", model.ct_new, read_keys(maps_->ct_new, before, model, s.frame));
        for (const auto &[key, b] : maps_->dnat.entries())
            if (auto it = model.dnat.find(key); it == model.dnat.end() || it->second.flags != b.flags)
                why << "    a DNAT entry's flags: got " << int(b.flags) << "\n";
        why << invariants(before, s, k, was, now_slots);
        if (why.str().empty())
            return true;
        std::cout << "DISAGREEMENT: " << hook_name(s.hook) << " on " << s.dev.name << ", " << s.what << "\n"
                  << "  frame " << hex(s.frame) << "\n  want " << verdict(want.action, want.reason) << "\n"
                  << why.str() << "  world before the frame:\n"
                  << before.describe();
        return false;
    }

    // After a disagreement the kernel's tables are the truth to go on from.
    void resync(World &model)
    {
        model.ct = read_table(maps_->ct);
        model.ct_new = read_table(maps_->ct_new);
        for (const auto &[key, b] : maps_->dnat.entries())
            model.dnat[key] = b;
    }

    std::uint64_t seed_;
    unsigned per_world_;
    test::ProgDevices devs_;
    std::unique_ptr<LoadedPrograms> progs_;
    std::unique_ptr<MapSet> maps_;
    std::uint64_t compared_ = 0, refused_ = 0, unknown_ = 0;
    std::map<std::string, std::uint64_t> seen_;
};

} // namespace
} // namespace fp::fuzz

int main(int argc, char **argv)
{
    CLI::App app{"datapath_fuzz: flatpath's BPF programs against a reference model of its decisions, on random\n"
                 "frames and map contents (root: it runs the programs with BPF_PROG_TEST_RUN in a network\n"
                 "namespace of its own)."};
    std::uint64_t seed = 1, first_world = 0, worlds = 100;
    unsigned per_world = 200;
    app.add_option("--seed", seed, "seed of the random worlds and frames (the same seed makes the same run)");
    app.add_option("--first-world", first_world, "number of the first world (a reproducer names one)");
    app.add_option("--worlds", worlds, "how many worlds (random map contents) to run");
    app.add_option("--frames-per-world", per_world, "frames sent to each world, one after the other")->check(CLI::Range(1u, 1000000u));
    CLI11_PARSE(app, argc, argv);
    try {
        fp::fuzz::Fuzzer fuzzer(seed, per_world);
        unsigned bad = 0;
        for (std::uint64_t w = first_world; w < first_world + worlds; ++w)
            bad += fuzzer.run_world(w);
        for (const auto &[what, n] : fuzzer.seen())
            std::printf("  %-48s %llu\n", what.c_str(), static_cast<unsigned long long>(n));
        std::printf("datapath_fuzz: seed %llu, %llu worlds: %llu frames compared, %llu refused by the kernel's test "
                    "run (skb shorter than its IP header), %llu with a route the model does not know; %u disagreements\n",
                    static_cast<unsigned long long>(seed), static_cast<unsigned long long>(worlds),
                    static_cast<unsigned long long>(fuzzer.compared()), static_cast<unsigned long long>(fuzzer.refused()),
                    static_cast<unsigned long long>(fuzzer.unknown()), bad);
        return bad ? 1 : 0;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "datapath_fuzz: error: %s\n", e.what());
        return 2;
    }
}

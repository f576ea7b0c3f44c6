#include "reference_model.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

#include "checksum.hpp"
#include "test_world.hpp"

namespace fp::fuzz {

std::string hook_name(Hook h)
{
    switch (h) {
    case Hook::XdpUplink:
        return "xdp_uplink";
    case Hook::TcUplink:
        return "from_uplink";
    case Hook::TcEndpoint:
        return "from_container";
    }
    return "?";
}

namespace {

constexpr std::uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kAck = 0x10;
constexpr std::uint64_t kSec = 1'000'000'000ull;
constexpr std::size_t kEth = 14, kMaxL4Off = 256;
enum Frag { kNoFrag, kFirstFrag, kLaterFrag };

// A negative result of a step: a reason (pass or drop); 0 goes on; >0 translated.
using Step = int;

bool same(const fp_addr &a, const fp_addr &b) { return std::memcmp(&a, &b, sizeof a) == 0; }

fp_addr v4_addr(const Bytes &f, std::size_t at)
{
    fp_addr a{};
    a.w[2] = htonl(0xffff);
    std::memcpy(&a.b[12], &f[at], 4);
    return a;
}

fp_addr v6_addr(const Bytes &f, std::size_t at)
{
    fp_addr a{};
    std::memcpy(a.b, &f[at], 16);
    return a;
}

bool v4_mapped(const fp_addr &a) { return a.w[0] == 0 && a.w[1] == 0 && a.w[2] == htonl(0xffff); }
bool link_scoped(const fp_addr &a)
{
    return (a.b[0] == 0xfe && (a.b[1] & 0xc0) == 0x80) || (a.w[0] | a.w[1] | a.w[2] | a.w[3]) == 0;
}

// What the fixture's routing table says about a destination (prog_world.hpp).
enum class Route { Local, Neighbour, NoNeighbour, None, Unknown };
Route route_to(const fp_addr &dst)
{
    const std::string a = IpAddr::from_raw(dst).str();
    if (a == "10.99.0.1" || a == "fd99::1" || a == "127.0.0.1" || a == "::1")
        return Route::Local;
    if (a == "10.99.0.5" || a == "fd99::5")
        return Route::Neighbour;
    if (a == "10.99.0.7" || a == "fd99::7")
        return Route::NoNeighbour;
    if (a == "192.0.2.9" || a == "2001:db8::9" || a == "10.0.0.254" || a == "fd00::fe" || a.rfind("10.0.0.", 0) == 0 ||
        a.rfind("fd00::", 0) == 0)
        return Route::None;
    return Route::Unknown;
}

struct View {
    int l3 = 0; // 4, 6; 0: not IP
    std::size_t ip_end = 0;
    fp_addr src{}, dst{};
    bool l4 = false; // transport parsed
    std::uint8_t proto = 0;
    std::size_t l4_off = 0;
    int frag = kNoFrag;
    std::uint16_t sport = 0, dport = 0; // host order
    std::uint8_t flags = 0;
    std::uint32_t seq = 0, ack = 0;
    std::uint8_t icmp_type = 0;
};

struct Quote {
    std::size_t l3 = 0, l4 = 0;
    fp_addr src{}, dst{};
    std::uint16_t sport = 0, dport = 0;
    std::uint8_t proto = 0;
};

bool is_ext(std::uint8_t t) { return t == 0 || t == 43 || t == 44 || t == 60 || t == 51; }

// IPv6 extension headers from off (type next): at most four walked, each inside the
// frame and starting within the first 256 bytes. false: cut short or too deep.
bool walk_ext(const Bytes &f, std::size_t &off, std::uint8_t &next, int &frag)
{
    for (int i = 0; i < 4 && is_ext(next); ++i) {
        if (off > kMaxL4Off || off + 8 > f.size())
            return false;
        const std::uint8_t type = next;
        next = f[off];
        if (type == 44) {
            const std::uint16_t fo = load16(f, off + 2);
            frag = (fo & 0xfff8) ? kLaterFrag : (fo & 1) ? kFirstFrag : kNoFrag;
            off += 8;
        } else if (type == 51) {
            off += (f[off + 1] + 2u) * 4;
        } else {
            off += (f[off + 1] + 1u) * 8;
        }
    }
    return true;
}

class Decision {
public:
    Decision(World &w, Hook hook, std::uint32_t ifindex, const Bytes &frame, std::uint64_t now)
        : w_(w), hook_(hook), ifindex_(ifindex), now_(now)
    {
        o_.out = frame;
    }

    Outcome decide()
    {
        const Step r = hook_ == Hook::TcEndpoint ? from_container() : from_uplink();
        if (r < 0) {
            o_.reason = static_cast<std::uint32_t>(-r);
            o_.action = o_.reason >= FP_DROP_FIRST ? Outcome::Drop : Outcome::Pass;
        } else {
            o_.action = Outcome::Redirect;
        }
        return o_;
    }

private:
    Bytes &f() { return o_.out; }

    // Ethernet, then an IPv4 or IPv6 header that fits the frame.
    Step parse(View &v)
    {
        v = View{};
        if (f().size() < kEth)
            return -FP_DROP_MALFORMED;
        const std::uint16_t type = load16(f(), 12);
        if (type == 0x8100 || type == 0x88a8)
            return -FP_PASS_VLAN;
        if (type == 0x0800) {
            if (f().size() < kEth + 20 || (f()[kEth] >> 4) != 4 || (f()[kEth] & 0xf) < 5 ||
                kEth + (f()[kEth] & 0xfu) * 4 > f().size())
                return -FP_DROP_MALFORMED;
            v.l3 = 4;
            v.src = v4_addr(f(), kEth + 12);
            v.dst = v4_addr(f(), kEth + 16);
            v.ip_end = kEth + load16(f(), kEth + 2);
            return 0;
        }
        if (type == 0x86dd) {
            if (f().size() < kEth + 40 || (f()[kEth] >> 4) != 6)
                return -FP_DROP_MALFORMED;
            v.l3 = 6;
            v.src = v6_addr(f(), kEth + 8);
            v.dst = v6_addr(f(), kEth + 24);
            v.ip_end = kEth + 40 + load16(f(), kEth + 4);
            return 0;
        }
        return -FP_PASS_NOT_IP;
    }

    // Lengths against the frame, options, header checksum, mapped addresses.
    Step check_l3(const View &v)
    {
        const std::size_t room = f().size() - kEth;
        if (v.l3 == 4) {
            const std::size_t tot = load16(f(), kEth + 2);
            if (tot < 20 || tot > room)
                return -FP_DROP_MALFORMED;
            if ((f()[kEth] & 0xf) != 5)
                return -FP_PASS_IP_OPTIONS;
            if (!checksum_ok(f(), kEth, kEth + 20))
                return -FP_DROP_MALFORMED;
            return 0;
        }
        if (load16(f(), kEth + 4) + 40u > room)
            return -FP_DROP_MALFORMED;
        if (v4_mapped(v.src) || v4_mapped(v.dst))
            return -FP_DROP_V4_MAPPED;
        return 0;
    }

    Step parse_l4(View &v)
    {
        v.l4 = true;
        std::size_t off;
        if (v.l3 == 4) {
            v.proto = f()[kEth + 9];
            off = kEth + (f()[kEth] & 0xfu) * 4;
            const std::uint16_t fo = load16(f(), kEth + 6);
            v.frag = (fo & 0x1fff) ? kLaterFrag : (fo & 0x2000) ? kFirstFrag : kNoFrag;
        } else {
            off = kEth + 40;
            std::uint8_t next = f()[kEth + 6];
            if (!walk_ext(f(), off, next, v.frag))
                return -FP_DROP_MALFORMED;
            v.proto = next;
        }
        v.l4_off = off;
        if (v.frag == kLaterFrag)
            return 0;
        if (off > kMaxL4Off)
            return -FP_DROP_MALFORMED;
        if (v.proto == IPPROTO_TCP) {
            if (off + 20 > f().size())
                return -FP_DROP_MALFORMED;
            const std::size_t doff = f()[off + 12] >> 4;
            if (doff < 5 || off + doff * 4 > v.ip_end)
                return -FP_DROP_MALFORMED;
            v.sport = load16(f(), off);
            v.dport = load16(f(), off + 2);
            v.seq = load32(f(), off + 4);
            v.ack = load32(f(), off + 8);
            v.flags = f()[off + 13];
        } else if (v.proto == IPPROTO_UDP) {
            if (off + 8 > f().size())
                return -FP_DROP_MALFORMED;
            const std::size_t len = load16(f(), off + 4);
            if (len < 8 || off + len > v.ip_end)
                return -FP_DROP_MALFORMED;
            v.sport = load16(f(), off);
            v.dport = load16(f(), off + 2);
        } else if (v.proto == IPPROTO_ICMP || v.proto == IPPROTO_ICMPV6) {
            if (off + 8 > f().size())
                return -FP_DROP_MALFORMED;
            v.icmp_type = f()[off];
        }
        return 0;
    }

    // --- endpoints and forwarding ---

    static bool mac_is(const Bytes &f, std::size_t at, const MacAddr &m) { return std::memcmp(&f[at], m.bytes().data(), 6) == 0; }
    void set_mac(std::size_t at, const MacAddr &m) { std::memcpy(&f()[at], m.bytes().data(), 6); }

    bool ttl_expires(const View &v) { return f()[v.l3 == 4 ? kEth + 8 : kEth + 7] <= 1; }

    Step decrement_ttl(const View &v)
    {
        if (ttl_expires(v))
            return -FP_PASS_TTL;
        if (v.l3 == 4) {
            const std::uint8_t before[2] = {f()[kEth + 8], f()[kEth + 9]};
            f()[kEth + 8]--;
            update_checksum(f(), kEth + 10, kEth + 8, before, 2);
            o_.sums.push_back(kEth + 10);
        } else {
            f()[kEth + 7]--;
        }
        return 0;
    }

    static constexpr Step kNoEndpoint = -FP_PASS_NO_ENDPOINT;
    static constexpr std::size_t kDeviceMtu = 1500;

    Step forward_local(const View &v, std::uint32_t src_zone)
    {
        if (v.l3 == 6 && f()[kEth + 6] == 0)
            return -FP_PASS_IPV6_HOP_BY_HOP;
        const Endpoint *ep = w_.endpoint_of(v.dst);
        if (!ep)
            return kNoEndpoint;
        // XDP cannot strip a tun's Ethernet header: tc does.
        const bool tun = ep->kind == FP_EP_TUN;
        if (ep->kind == FP_EP_REMOTE || (tun && hook_ == Hook::XdpUplink))
            return -FP_PASS_KIND;
        if (src_zone && ep->zone && src_zone != ep->zone)
            return -FP_PASS_OTHER_ZONE;
        // Every device of the fuzzer's world has the default MTU.
        if (v.ip_end - kEth > kDeviceMtu)
            return -FP_PASS_MTU;
        // Switched to the endpoint's own MAC: delivered as it is; else routed (always to a tun).
        if (tun || !mac_is(f(), 0, ep->dev.peer_mac)) {
            const Step r = decrement_ttl(v);
            if (r < 0)
                return r;
            set_mac(0, ep->dev.peer_mac);
            set_mac(6, ep->dev.mac);
        }
        o_.to_slot = ep->slot;
        return 1;
    }

    Step forward_translated()
    {
        View v;
        const Step r = parse(v);
        return r < 0 ? r : forward_local(v, 0);
    }

    bool leaves_host(const View &v)
    {
        if (w_.endpoint_of(v.dst))
            return false;
        const Route r = route_to(v.dst);
        if (r == Route::Unknown)
            o_.known = false;
        return r == Route::Neighbour || r == Route::NoNeighbour;
    }

    // A translated reply: to an endpoint, or routed.
    Step reply_out()
    {
        View v;
        Step r = parse(v);
        if (r < 0)
            return r;
        r = forward_local(v, 0);
        if (r != kNoEndpoint)
            return r;
        const Route route = route_to(v.dst);
        if (route == Route::Unknown)
            o_.known = false;
        if (route != Route::Neighbour && route != Route::NoNeighbour)
            return -FP_PASS_NO_ROUTE;
        r = decrement_ttl(v);
        if (r < 0)
            return r;
        if (route == Route::Neighbour) {
            set_mac(0, test::kLan);
            set_mac(6, test::kUp0);
        }
        return 1;
    }

    // --- conntrack ---

    // A live entry, and whether it is in the assured table.
    struct Found {
        fp_ct_entry *entry = nullptr;
        bool assured = false;
    };

    Found find(const fp_ct_key &k)
    {
        for (CtTable *t : {&w_.ct, &w_.ct_new}) {
            auto it = t->find(k);
            if (it != t->end() && it->second.expires_ns > now_)
                return Found{&it->second, t == &w_.ct};
        }
        return Found{};
    }

    static fp_ct_key key(const fp_addr &s, const fp_addr &d, std::uint16_t sp, std::uint16_t dp, std::uint8_t proto,
                         std::uint8_t dir)
    {
        fp_ct_key k{};
        k.saddr = s;
        k.daddr = d;
        k.sport = htons(sp);
        k.dport = htons(dp);
        k.proto = proto;
        k.dir = dir;
        return k;
    }
    static fp_ct_key key_of(const View &v, std::uint8_t dir) { return key(v.src, v.dst, v.sport, v.dport, v.proto, dir); }
    // The key of the packets travelling back towards an entry's translated addresses.
    static fp_ct_key key_back_to(const fp_ct_entry &e, std::uint8_t proto, std::uint8_t dir)
    {
        return key(e.daddr, e.saddr, ntohs(e.dport), ntohs(e.sport), proto, dir);
    }

    static bool bare_syn(const View &v) { return (v.flags & (kSyn | kAck)) == kSyn; }
    static bool synack(const View &v)
    {
        return v.proto == IPPROTO_TCP && (v.flags & (kSyn | kAck | kRst)) == (kSyn | kAck);
    }

    // docs/datapath.md "Timeouts".
    static std::uint64_t timeout(const View &v, std::uint8_t flags)
    {
        const bool assured = flags & FP_CT_ASSURED;
        if (v.proto == IPPROTO_UDP)
            return (assured ? 120 : 30) * kSec;
        if (flags & (FP_CT_RST | FP_CT_FIN_ORIG | FP_CT_FIN_REPLY))
            return 10 * kSec;
        if (!assured || bare_syn(v))
            return 60 * kSec;
        return 21600 * kSec;
    }

    void touch(fp_ct_entry &e, const View &v, std::uint8_t dir)
    {
        std::uint8_t flags = e.flags;
        if (dir == FP_CT_REPLY)
            flags |= FP_CT_SEEN_REPLY;
        if (v.flags & kFin)
            flags |= dir == FP_CT_REPLY ? FP_CT_FIN_REPLY : FP_CT_FIN_ORIG;
        if (v.flags & kRst)
            flags |= FP_CT_RST;
        if (bare_syn(v)) // a new SYN on a closed flow's tuple starts it over
            flags &= static_cast<std::uint8_t>(~(FP_CT_RST | FP_CT_FIN_ORIG | FP_CT_FIN_REPLY));
        e.flags = flags;
        e.expires_ns = now_ + timeout(v, flags);
        e.packets++;
        e.bytes += f().size();
    }

    // --- NAT rewriting ---

    void rewrite(const View &v, bool dest, const fp_addr &addr, std::uint16_t port_be)
    {
        const std::size_t csum = v.l4_off + (v.proto == IPPROTO_TCP ? 16 : 6);
        const bool udp = v.proto == IPPROTO_UDP;
        const auto l4_update = [&](std::size_t at, const std::uint8_t *before, std::size_t n) {
            if (udp && load16(f(), csum) == 0)
                return; // IPv4 UDP without a checksum stays without
            update_checksum(f(), csum, at, before, n);
            if (udp && load16(f(), csum) == 0)
                store16(f(), csum, 0xffff);
        };
        const fp_addr &old = dest ? v.dst : v.src;
        if (!same(old, addr)) {
            const std::size_t at = v.l3 == 4 ? kEth + (dest ? 16 : 12) : kEth + (dest ? 24 : 8);
            const std::size_t n = v.l3 == 4 ? 4 : 16;
            std::uint8_t before[16];
            std::memcpy(before, &f()[at], n);
            std::memcpy(&f()[at], v.l3 == 4 ? &addr.b[12] : addr.b, n);
            if (v.l3 == 4) {
                update_checksum(f(), kEth + 10, at, before, n);
                o_.sums.push_back(kEth + 10);
            }
            l4_update(at, before, n);
        }
        const std::size_t pat = v.l4_off + (dest ? 2 : 0);
        std::uint16_t port;
        std::memcpy(&port, &f()[pat], 2);
        if (port != port_be) {
            std::uint8_t before[2] = {f()[pat], f()[pat + 1]};
            std::memcpy(&f()[pat], &port_be, 2);
            l4_update(pat, before, 2);
        }
        if (!udp)
            o_.sums.push_back(csum);
    }

    void apply(const View &v, const fp_ct_entry &e, std::uint8_t dir)
    {
        if (dir == FP_CT_REPLY || (e.flags & FP_CT_SNAT))
            rewrite(v, false, e.saddr, e.sport);
        View after;
        parse(after);
        parse_l4(after);
        if (dir == FP_CT_ORIGINAL || (e.flags & FP_CT_SNAT))
            rewrite(after, true, e.daddr, e.dport);
    }

    // --- DNAT ---

    bool nat_applies(const View &v) { return (v.proto == IPPROTO_TCP || v.proto == IPPROTO_UDP) && v.frag != kLaterFrag; }

    bool is_backend(const fp_addr &a, std::uint8_t proto, std::uint16_t port)
    {
        fp_backend_key k{};
        k.addr = a;
        k.port = htons(port);
        k.proto = proto;
        return w_.backends.count(k) > 0;
    }

    bool range_lookup(const fp_addr &a, const View &v, fp_addr &backend, std::uint16_t &bport)
    {
        fp_range_key k{};
        k.addr = a;
        k.proto = v.proto;
        auto it = w_.ranges.find(k);
        if (it == w_.ranges.end())
            return false;
        for (std::uint32_t i = 0; i < it->second.count; ++i) {
            const fp_port_range &r = it->second.ranges[i];
            if (v.dport >= r.first && v.dport <= r.last) {
                backend = r.backend;
                bport = static_cast<std::uint16_t>(r.backend_first + (v.dport - r.first));
                return true;
            }
        }
        return false;
    }

    // The backend of a new flow: the port itself, "any" for host addresses, then ranges.
    bool dnat_lookup(const View &v, fp_addr &backend, std::uint16_t &bport)
    {
        const fp_addr any = IpAddr::from_raw(v.dst).any_of_family().raw();
        const bool local = w_.local_addrs.count(IpAddr::from_raw(v.dst)) > 0;
        for (const fp_addr *a : {&v.dst, &any}) {
            if (a == &any && !(w_.config.dnat_any && local))
                break;
            fp_dnat_key k{};
            k.addr = *a;
            k.port = htons(v.dport);
            k.proto = v.proto;
            auto it = w_.dnat.find(k);
            if (it != w_.dnat.end()) {
                it->second.flags |= FP_DNAT_HAD_FLOWS;
                backend = it->second.addr;
                bport = ntohs(it->second.port);
                return true;
            }
        }
        if (!w_.config.range_sets)
            return false;
        if (range_lookup(v.dst, v, backend, bport))
            return true;
        return w_.config.dnat_any && local && range_lookup(any, v, backend, bport);
    }

    // The client's direction: 1 translated, 0 not a published flow, or a reason.
    Step dnat_original(const View &v)
    {
        if (!nat_applies(v))
            return 0;
        const fp_ct_key k = key_of(v, FP_CT_ORIGINAL);
        Found found = find(k);
        if (found.entry) {
            touch(*found.entry, v, FP_CT_ORIGINAL);
            fp_ct_entry orig = *found.entry;
            if (!found.assured && assures(orig, v))
                orig = promote(k, orig, v);
            apply(v, orig, FP_CT_ORIGINAL);
            return 1;
        }
        fp_ct_entry orig{}, reply{};
        std::uint16_t bport = 0;
        // The host's own connections are translated at the socket: a packet "from" a host
        // address makes no flow (from outside it is a spoof, which the stack drops).
        if (w_.local_addrs.count(IpAddr::from_raw(v.src)))
            return 0;
        if (!dnat_lookup(v, orig.daddr, bport))
            return 0;
        orig.dport = htons(bport);
        orig.saddr = v.src;
        orig.sport = htons(v.sport);
        if (same(orig.daddr, v.src)) { // a backend reaching its own published port
            orig.saddr = v.dst;
            orig.flags |= FP_CT_SNAT;
        }
        reply.saddr = v.dst;
        reply.sport = htons(v.dport);
        reply.daddr = v.src;
        reply.dport = htons(v.sport);
        reply.flags = orig.flags;
        touch(orig, v, FP_CT_ORIGINAL);
        reply.expires_ns = orig.expires_ns;
        w_.ct_new[key_back_to(orig, v.proto, FP_CT_REPLY)] = reply;
        w_.ct_new[k] = orig;
        apply(v, orig, FP_CT_ORIGINAL);
        return 1;
    }

    // docs: TCP when the client's ACK carries the backend's ISN + 1; UDP when the client
    // sends again after a reply.
    static bool assures(const fp_ct_entry &orig, const View &v)
    {
        if (!(orig.flags & FP_CT_SEEN_REPLY))
            return false;
        if (v.proto == IPPROTO_UDP)
            return true;
        return (orig.flags & FP_CT_SYNACK_SEEN) && (v.flags & (kSyn | kAck | kRst)) == kAck && v.ack == orig.handshake_ack;
    }

    // Both entries move to the assured table; the reply entry is made anew.
    fp_ct_entry promote(const fp_ct_key &okey, fp_ct_entry orig, const View &v)
    {
        const fp_ct_key rkey = key_back_to(orig, okey.proto, FP_CT_REPLY);
        fp_ct_entry reply{};
        auto old = w_.ct_new.find(rkey);
        if (old != w_.ct_new.end()) {
            reply.packets = old->second.packets;
            reply.bytes = old->second.bytes;
        }
        reply.saddr = okey.daddr;
        reply.daddr = okey.saddr;
        reply.sport = okey.dport;
        reply.dport = okey.sport;
        orig.flags |= FP_CT_ASSURED;
        reply.flags = static_cast<std::uint8_t>(orig.flags & ~FP_CT_SYNACK_SEEN);
        orig.expires_ns = now_ + timeout(v, orig.flags);
        reply.expires_ns = orig.expires_ns;
        w_.ct[rkey] = reply;
        w_.ct[okey] = orig;
        w_.ct_new.erase(okey);
        w_.ct_new.erase(rkey);
        return orig;
    }

    // The backend's direction (from a container): 1 translated, 0 none, or a reason.
    Step dnat_reply(const View &v)
    {
        if (!nat_applies(v) || !is_backend(v.src, v.proto, v.sport))
            return 0;
        Found found = find(key_of(v, FP_CT_REPLY));
        if (!found.entry)
            return synack(v) ? -FP_DROP_NO_FLOW : 0;
        if (found.entry->flags & FP_CT_DIRECT)
            return 0;
        touch(*found.entry, v, FP_CT_REPLY);
        const fp_ct_entry e = *found.entry;
        if (!found.assured) { // the original entry learns of the answer
            auto orig = w_.ct_new.find(key_back_to(e, v.proto, FP_CT_ORIGINAL));
            if (orig != w_.ct_new.end()) {
                if (synack(v)) {
                    orig->second.handshake_ack = v.seq + 1;
                    orig->second.flags |= FP_CT_SEEN_REPLY | FP_CT_SYNACK_SEEN;
                } else {
                    orig->second.flags |= FP_CT_SEEN_REPLY;
                }
            }
        }
        apply(v, e, FP_CT_REPLY);
        return 1;
    }

    // A SYN from outside straight to a published backend leaves a marker.
    void mark_direct(const View &v)
    {
        if (!bare_syn(v) || !is_backend(v.dst, IPPROTO_TCP, v.dport))
            return;
        fp_ct_entry e{};
        e.saddr = v.dst;
        e.daddr = v.src;
        e.sport = htons(v.dport);
        e.dport = htons(v.sport);
        e.flags = FP_CT_DIRECT;
        e.expires_ns = now_ + 60 * kSec;
        w_.ct_new[key(v.dst, v.src, v.dport, v.sport, IPPROTO_TCP, FP_CT_REPLY)] = e;
    }

    // --- ICMP errors ---

    static bool icmp_error(const View &v)
    {
        if (v.l3 == 4)
            return v.proto == IPPROTO_ICMP && (v.icmp_type == 3 || v.icmp_type == 11 || v.icmp_type == 12);
        return v.proto == IPPROTO_ICMPV6 && v.icmp_type >= 1 && v.icmp_type <= 4;
    }

    bool parse_quote(const View &v, Quote &q)
    {
        q.l3 = v.l4_off + 8;
        if (q.l3 > kMaxL4Off)
            return false;
        if (v.l3 == 4) {
            if (q.l3 + 20 > f().size() || (f()[q.l3] & 0xf) < 5)
                return false;
            q.proto = f()[q.l3 + 9];
            q.l4 = q.l3 + (f()[q.l3] & 0xfu) * 4;
            q.src = v4_addr(f(), q.l3 + 12);
            q.dst = v4_addr(f(), q.l3 + 16);
        } else {
            if (q.l3 + 40 > f().size())
                return false;
            q.proto = f()[q.l3 + 6];
            q.l4 = q.l3 + 40;
            q.src = v6_addr(f(), q.l3 + 8);
            q.dst = v6_addr(f(), q.l3 + 24);
            int frag = kNoFrag;
            if (!walk_ext(f(), q.l4, q.proto, frag) || frag == kLaterFrag)
                return false;
        }
        if ((q.proto != IPPROTO_TCP && q.proto != IPPROTO_UDP) || q.l4 > kMaxL4Off || q.l4 + 4 > f().size())
            return false;
        q.sport = load16(f(), q.l4);
        q.dport = load16(f(), q.l4 + 2);
        return true;
    }

    // The outer address on one side and the quote's address and port on the other.
    void rewrite_icmp(const View &v, const Quote &q, bool outer_dest, bool quote_dest, const fp_addr &addr,
                      std::uint16_t port_be)
    {
        const std::size_t icmp_csum = v.l4_off + 2, n = v.l3 == 4 ? 4 : 16;
        const auto store_addr = [&](std::size_t at, bool inner_ip4) {
            std::uint8_t before[16];
            std::memcpy(before, &f()[at], n);
            std::memcpy(&f()[at], v.l3 == 4 ? &addr.b[12] : addr.b, n);
            const std::size_t ip_csum = inner_ip4 ? q.l3 + 10 : kEth + 10;
            if (v.l3 == 4) {
                const std::uint8_t old_sum[2] = {f()[ip_csum], f()[ip_csum + 1]};
                update_checksum(f(), ip_csum, at, before, n);
                o_.sums.push_back(ip_csum);
                if (inner_ip4) { // the ICMP checksum covers the quote, its checksum included
                    update_checksum(f(), icmp_csum, at, before, n);
                    update_checksum(f(), icmp_csum, ip_csum, old_sum, 2);
                }
            } else {
                update_checksum(f(), icmp_csum, at, before, n); // pseudo-header or quote
            }
        };
        store_addr(v.l3 == 4 ? kEth + (outer_dest ? 16 : 12) : kEth + (outer_dest ? 24 : 8), false);
        store_addr(v.l3 == 4 ? q.l3 + (quote_dest ? 16 : 12) : q.l3 + (quote_dest ? 24 : 8), v.l3 == 4);
        const std::size_t pat = q.l4 + (quote_dest ? 2 : 0);
        std::uint16_t port;
        std::memcpy(&port, &f()[pat], 2);
        if (port != port_be) {
            const std::uint8_t before[2] = {f()[pat], f()[pat + 1]};
            std::memcpy(&f()[pat], &port_be, 2);
            update_checksum(f(), icmp_csum, pat, before, 2);
        }
        o_.sums.push_back(icmp_csum);
    }

    // From outside, about a reply flatpath translated (quote: published -> client).
    Step icmp_error_original(const View &v)
    {
        Quote q;
        if (!parse_quote(v, q))
            return 0;
        Found found = find(key(q.dst, q.src, q.dport, q.sport, q.proto, FP_CT_ORIGINAL));
        if (!found.entry || (found.entry->flags & FP_CT_DIRECT) || !same(v.dst, q.src))
            return 0;
        const fp_ct_entry e = *found.entry;
        rewrite_icmp(v, q, true, false, e.daddr, e.dport);
        return 1;
    }

    // From a backend, about a packet it received (quote: client -> backend).
    Step icmp_error_reply(const View &v)
    {
        Quote q;
        if (!parse_quote(v, q))
            return 0;
        Found found = find(key(q.dst, q.src, q.dport, q.sport, q.proto, FP_CT_REPLY));
        // A marker (a SYN that reached the backend directly) is no flow: its answers, and
        // errors about what it received, are the backend's own.
        if (!found.entry || (found.entry->flags & (FP_CT_SNAT | FP_CT_DIRECT)) || !same(v.src, q.dst))
            return 0;
        const fp_ct_entry e = *found.entry;
        rewrite_icmp(v, q, false, true, e.saddr, e.sport);
        return 1;
    }

    // For no endpoint: a published address's flow, or the stack.
    Step dnat_and_forward(View &v)
    {
        if (!w_.config.dnat_entries)
            return kNoEndpoint;
        if (!v.l4) {
            const Step r = parse_l4(v);
            if (r < 0)
                return r;
        }
        if (v.frag != kNoFrag)
            return -FP_PASS_FRAGMENT;
        if (ttl_expires(v))
            return -FP_PASS_TTL;
        if (icmp_error(v)) {
            const Step r = icmp_error_original(v);
            return r <= 0 ? (r ? r : -FP_PASS_ICMP_ERROR) : forward_translated();
        }
        const Step r = dnat_original(v);
        return r <= 0 ? (r ? r : kNoEndpoint) : forward_translated();
    }

    // --- the hooks ---

    Step check_source_mac(std::uint32_t &slot)
    {
        const Endpoint *ep = w_.endpoint_on(ifindex_);
        if (!ep)
            return -FP_DROP_NOT_ENDPOINT;
        if (!mac_is(f(), 6, ep->dev.peer_mac))
            return -FP_DROP_SPOOF_MAC;
        slot = ep->slot;
        return 0;
    }

    Step from_container()
    {
        View v;
        const Step parsed = parse(v);
        if (parsed == -FP_DROP_MALFORMED)
            return parsed;
        if (parsed == -FP_PASS_VLAN)
            return -FP_DROP_VLAN;
        Step checked = 0;
        if (parsed == 0) {
            checked = check_l3(v);
            if (checked <= -static_cast<Step>(FP_DROP_FIRST))
                return checked;
        }
        std::uint32_t slot = 0, zone = 0;
        if (parsed < 0 || (v.l3 == 6 && link_scoped(v.src))) {
            const Step r = check_source_mac(slot);
            if (r < 0)
                return r;
        } else {
            const Endpoint *ep = w_.endpoint_of(v.src);
            if (!ep || ep->dev.ifindex != ifindex_)
                return -FP_DROP_SPOOF_IP;
            if (!mac_is(f(), 6, ep->dev.peer_mac))
                return -FP_DROP_SPOOF_MAC;
            slot = ep->slot;
            zone = ep->zone;
        }
        o_.from_slot = slot;
        if (parsed < 0)
            return parsed;
        if (checked < 0) { // options: a published backend's packet would leave untranslated
            if (checked == -FP_PASS_IP_OPTIONS && w_.config.dnat_entries && parse_l4(v) == 0 && nat_applies(v) &&
                is_backend(v.src, v.proto, v.sport))
                return -FP_DROP_BACKEND_OPTIONS;
            return checked;
        }
        if (v.l3 == 6 && link_scoped(v.src))
            return -FP_PASS_LINK_LOCAL;
        if (w_.config.dnat_entries || w_.config.mark_rules) {
            const Step r = parse_l4(v);
            if (r < 0)
                return r;
            if (w_.config.mark_rules)
                apply_marks(v);
            if (w_.config.dnat_entries) {
                Step t = icmp_error(v) ? icmp_error_reply(v) : dnat_reply(v);
                if (t == -FP_DROP_NO_FLOW && !leaves_host(v))
                    t = 0; // to the host or a container: nothing leaks
                if (t < 0)
                    return t;
                if (t > 0)
                    return reply_out();
            }
        }
        const Step r = forward_local(v, zone);
        if (r != kNoEndpoint)
            return r;
        return dnat_and_forward(v);
    }

    void apply_marks(const View &v)
    {
        if (v.proto != IPPROTO_TCP && v.proto != IPPROTO_UDP)
            return;
        const auto find_rule = [&](const fp_addr &a, std::uint16_t port, std::uint8_t match) -> const fp_mark * {
            for (const fp_addr &addr : {a, fp_addr{}}) {
                fp_mark_key k{};
                k.addr = addr;
                k.port = htons(port);
                k.proto = v.proto;
                k.match = match;
                auto it = w_.marks.find(k);
                if (it != w_.marks.end())
                    return &it->second;
            }
            return nullptr;
        };
        const fp_mark *m = find_rule(v.src, v.sport, FP_MARK_SOURCE);
        if (!m)
            m = find_rule(v.dst, v.dport, FP_MARK_DESTINATION);
        if (m)
            o_.mark = (o_.mark & ~m->mask) | (m->value & m->mask);
    }

    Step from_uplink()
    {
        View v;
        Step r = parse(v);
        if (r < 0)
            return r;
        if (!mac_is(f(), 0, w_.uplink.mac))
            return -FP_PASS_NOT_FOR_HOST;
        if (hook_ == Hook::XdpUplink && f().size() > 1500 + kEth)
            return -FP_PASS_GSO;
        r = check_l3(v);
        if (r < 0)
            return r;
        const Endpoint *src = w_.endpoint_of(v.src);
        if (src && src->kind != FP_EP_REMOTE)
            return -FP_DROP_SPOOF_IP;
        if (w_.config.dnat_entries) {
            r = parse_l4(v);
            if (r < 0)
                return r;
            if (v.proto == IPPROTO_TCP && v.frag == kNoFrag)
                mark_direct(v);
        }
        r = forward_local(v, 0);
        if (r != kNoEndpoint)
            return r;
        return dnat_and_forward(v);
    }

    World &w_;
    Hook hook_;
    std::uint32_t ifindex_;
    std::uint64_t now_;
    Outcome o_;
};

} // namespace

Outcome ReferenceModel::run(Hook hook, std::uint32_t ifindex, const Bytes &frame, std::uint64_t now)
{
    return Decision(w_, hook, ifindex, frame, now).decide();
}

} // namespace fp::fuzz

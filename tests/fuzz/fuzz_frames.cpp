#include "fuzz_frames.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "checksum.hpp"
#include "test_world.hpp"

namespace fp::fuzz {

namespace {


template <class T>
const T &pick(std::mt19937_64 &rng, const std::vector<T> &v)
{
    return v[std::uniform_int_distribution<std::size_t>(0, v.size() - 1)(rng)];
}
bool chance(std::mt19937_64 &rng, double p) { return std::bernoulli_distribution(p)(rng); }
unsigned below(std::mt19937_64 &rng, unsigned n) { return std::uniform_int_distribution<unsigned>(0, n - 1)(rng); }

const std::vector<std::uint8_t> kTcpFlags = {0x02, 0x10, 0x12, 0x11, 0x04, 0x14, 0x18, 0x01, 0x00, 0x03};

// A random entry of one direction from either table.
const std::pair<const fp_ct_key, fp_ct_entry> *pick_flow(std::mt19937_64 &rng, const World &w, std::uint8_t dir)
{
    std::vector<const std::pair<const fp_ct_key, fp_ct_entry> *> c;
    for (const CtTable *t : {&w.ct, &w.ct_new})
        for (const auto &kv : *t)
            if (kv.first.dir == dir)
                c.push_back(&kv);
    return c.empty() ? nullptr : pick(rng, c);
}

// The device a packet from addr arrives on: its endpoint's, else the uplink.
Shot arriving_from(std::mt19937_64 &rng, const World &w, const IpAddr &addr)
{
    const Endpoint *ep = w.endpoint_of(addr.raw());
    if (ep && ep->kind != FP_EP_REMOTE && ep->kind != FP_EP_TUN)
        return Shot{Hook::TcEndpoint, ep->dev, {}, ""};
    return Shot{chance(rng, 0.5) ? Hook::XdpUplink : Hook::TcUplink, w.uplink, {}, ""};
}

void address_frame(Packet &p, const Shot &s)
{
    if (s.hook == Hook::TcEndpoint) {
        p.src_mac = s.dev.peer_mac;
        p.dst_mac = s.dev.mac;
    } else {
        p.src_mac = test::kLan;
        p.dst_mac = s.dev.mac;
    }
}

// s with p's frame, addressed as arriving on s's device.
Shot finish(Shot s, Packet p, const char *what)
{
    address_frame(p, s);
    s.frame = p.bytes();
    s.what = what;
    return s;
}

Packet l4_packet(std::mt19937_64 &rng, const IpAddr &src, const IpAddr &dst, std::uint8_t proto, std::uint16_t sport,
                 std::uint16_t dport)
{
    Packet p;
    p.l3 = src.is_v4() ? L3::IPv4 : L3::IPv6;
    p.src = src;
    p.dst = dst;
    p.proto = proto;
    p.sport = sport;
    p.dport = dport;
    p.tcp_flags = pick(rng, kTcpFlags);
    p.tcp_seq = static_cast<std::uint32_t>(rng());
    p.payload = below(rng, 3) == 0 ? 0 : below(rng, 40);
    p.udp_no_checksum = proto == IPPROTO_UDP && chance(rng, 0.1);
    return p;
}

IpAddr any_of(std::mt19937_64 &rng, bool v4) { return pick(rng, v4 ? address_pool().v4 : address_pool().v6); }

// A new flow (or not) to a published port from a LAN client or a container.
Shot to_published(std::mt19937_64 &rng, const World &w)
{
    fp_addr dst_raw{};
    std::uint8_t proto = chance(rng, 0.6) ? IPPROTO_TCP : IPPROTO_UDP;
    std::uint16_t dport = pick(rng, std::vector<std::uint16_t>{80, 443, 8080, 1000, 1003, 2001, 3000, 53});
    if (!w.dnat.empty() && chance(rng, 0.7)) {
        auto it = w.dnat.begin();
        std::advance(it, below(rng, static_cast<unsigned>(w.dnat.size())));
        dst_raw = it->first.addr;
        proto = it->first.proto;
        dport = ntohs(it->first.port);
    } else if (!w.ranges.empty() && chance(rng, 0.6)) {
        auto it = w.ranges.begin();
        std::advance(it, below(rng, static_cast<unsigned>(w.ranges.size())));
        const fp_port_range &r = it->second.ranges[below(rng, it->second.count)];
        dst_raw = it->first.addr;
        proto = it->first.proto;
        dport = static_cast<std::uint16_t>(r.first + below(rng, r.last - r.first + 2u)); // and one past
    } else {
        dst_raw = any_of(rng, chance(rng, 0.6)).raw();
    }
    IpAddr dst = IpAddr::from_raw(dst_raw);
    if (dst.str() == "0.0.0.0" || dst.str() == "::")
        dst = IpAddr::parse(dst.is_v4() ? (chance(rng, 0.8) ? "10.99.0.1" : "10.0.0.254")
                                        : (chance(rng, 0.8) ? "fd99::1" : "fd00::fe"));
    const bool v4 = dst.is_v4();
    IpAddr src = chance(rng, 0.75) ? pick(rng, v4 ? lan_clients().v4 : lan_clients().v6) : any_of(rng, v4);
    Shot s = arriving_from(rng, w, src);
    Packet p = l4_packet(rng, src, dst, proto, chance(rng, 0.5) ? 40000 : 40001, dport);
    if (proto == IPPROTO_TCP && chance(rng, 0.6))
        p.tcp_flags = 0x02;
    return finish(s, p, "to a published port");
}

// The client's next packet of a flow: often the ACK that completes its handshake.
Shot client_next(std::mt19937_64 &rng, const World &w)
{
    const auto *flow = pick_flow(rng, w, FP_CT_ORIGINAL);
    if (!flow)
        return to_published(rng, w);
    const fp_ct_key &k = flow->first;
    const IpAddr src = IpAddr::from_raw(k.saddr);
    Shot s = arriving_from(rng, w, src);
    Packet p = l4_packet(rng, src, IpAddr::from_raw(k.daddr), k.proto, ntohs(k.sport), ntohs(k.dport));
    if (chance(rng, 0.6)) {
        p.tcp_flags = 0x10;
        p.tcp_ack = flow->second.handshake_ack;
    }
    return finish(s, p, "a client's next packet");
}

// A backend's answer: SYN-ACK, data, FIN, RST (for a flow, or for none).
Shot backend_answer(std::mt19937_64 &rng, const World &w)
{
    const auto *flow = pick_flow(rng, w, FP_CT_REPLY);
    IpAddr src, dst;
    std::uint8_t proto;
    std::uint16_t sport, dport;
    if (flow && chance(rng, 0.8)) {
        src = IpAddr::from_raw(flow->first.saddr);
        dst = IpAddr::from_raw(flow->first.daddr);
        proto = flow->first.proto;
        sport = ntohs(flow->first.sport);
        dport = ntohs(flow->first.dport);
    } else if (!w.backends.empty()) {
        auto it = w.backends.begin();
        std::advance(it, below(rng, static_cast<unsigned>(w.backends.size())));
        src = IpAddr::from_raw(it->first.addr);
        proto = it->first.proto;
        sport = ntohs(it->first.port);
        dst = pick(rng, src.is_v4() ? lan_clients().v4 : lan_clients().v6);
        dport = 40003;
    } else {
        return to_published(rng, w);
    }
    Shot s = arriving_from(rng, w, src);
    Packet p = l4_packet(rng, src, dst, proto, sport, dport);
    if (chance(rng, 0.5))
        p.tcp_flags = 0x12;
    return finish(s, p, "a backend's answer");
}

// An ICMP error about a flow: from outside about its reply, or from its backend about
// what it received.
Shot icmp_error(std::mt19937_64 &rng, const World &w)
{
    const bool from_backend = chance(rng, 0.5);
    const auto *flow = pick_flow(rng, w, from_backend ? FP_CT_REPLY : FP_CT_ORIGINAL);
    if (!flow)
        return to_published(rng, w);
    const fp_ct_key &k = flow->first;
    // The quote is the packet travelling the other way: k's reverse.
    Packet quoted = l4_packet(rng, IpAddr::from_raw(k.daddr), IpAddr::from_raw(k.saddr), k.proto, ntohs(k.dport),
                              ntohs(k.sport));
    if (chance(rng, 0.2) && !quoted.src.is_v4())
        quoted.ipv6_ext = {60};
    Packet p;
    p.l3 = quoted.l3;
    // From the flow's own end (the backend, or the client), or from a router on the way.
    p.src = IpAddr::from_raw(k.saddr);
    if (!from_backend && chance(rng, 0.3))
        p.src = pick(rng, quoted.src.is_v4() ? lan_clients().v4 : lan_clients().v6);
    p.dst = IpAddr::from_raw(k.daddr);
    p.proto = static_cast<std::uint8_t>(p.l3 == L3::IPv4 ? 1 : 58); // ICMP, ICMPv6
    Bytes q = quoted.quoted();
    if (chance(rng, 0.3))
        q.resize(q.size() - below(rng, static_cast<unsigned>(q.size())));
    p.icmp_quote = q;
    p.icmp_type = p.l3 == L3::IPv4 ? pick(rng, std::vector<std::uint8_t>{3, 11, 12, 0, 8})
                                         : pick(rng, std::vector<std::uint8_t>{1, 2, 3, 4, 128});
    p.icmp_code = static_cast<std::uint8_t>(below(rng, 5));
    Shot s = arriving_from(rng, w, p.src);
    return finish(s, p, from_backend ? "an ICMP error from a backend" : "an ICMP error about a reply");
}

// Traffic a container sends: to its neighbours, the LAN, the host; spoofed at times.
Shot container_traffic(std::mt19937_64 &rng, const World &w)
{
    std::vector<const Endpoint *> senders;
    for (const Endpoint &e : w.endpoints)
        if (e.kind == FP_EP_VETH || e.kind == FP_EP_TAP)
            senders.push_back(&e);
    const Endpoint &from = *pick(rng, senders);
    const bool v4 = chance(rng, 0.6);
    IpAddr src = from.addrs[v4 ? 0 : 1];
    if (chance(rng, 0.15))
        src = any_of(rng, v4);
    const IpAddr dst = any_of(rng, v4);
    const std::uint8_t proto =
        pick(rng, std::vector<std::uint8_t>{IPPROTO_UDP, IPPROTO_TCP, IPPROTO_TCP, 47, static_cast<std::uint8_t>(v4 ? 1 : 58)});
    Packet p = l4_packet(rng, src, dst, proto, pick(rng, std::vector<std::uint16_t>{40000, 80, 5001, 8080}),
                         pick(rng, std::vector<std::uint16_t>{80, 5001, 8080, 40000}));
    if (proto == 1 || proto == 58) { // an echo request: type 8 / 128, no quote
        p.icmp_quote = Bytes(8, 0);
        p.icmp_type = v4 ? 8 : 128;
        p.icmp_code = 0;
    }
    Shot s{Hook::TcEndpoint, from.dev, {}, "a container's packet"};
    address_frame(p, s);
    if (chance(rng, 0.1))
        p.src_mac = test::kC2;
    if (const Endpoint *to = w.endpoint_of(dst.raw()); to && chance(rng, 0.3))
        p.dst_mac = to->dev.peer_mac; // switched (bridge mode)
    if (chance(rng, 0.15))
        p.l3 = L3::Arp;
    s.frame = p.bytes();
    return s;
}

// --- byte-level mutations ---

void insert_tag(Bytes &f, std::uint16_t tpid, std::uint16_t tci)
{
    const std::uint8_t tag[4] = {static_cast<std::uint8_t>(tpid >> 8), static_cast<std::uint8_t>(tpid),
                                 static_cast<std::uint8_t>(tci >> 8), static_cast<std::uint8_t>(tci)};
    f.insert(f.begin() + 12, tag, tag + 4);
}

void fix_ipv4_checksum(Bytes &f)
{
    if (f.size() >= 34 && load16(f, 12) == 0x0800) {
        const std::size_t len = std::min<std::size_t>((f[14] & 0xf) * 4u, f.size() - 14);
        store16(f, 24, 0);
        store16(f, 24, static_cast<std::uint16_t>(~fold(sum_words(&f[14], len))));
    }
}

std::string mutate(std::mt19937_64 &rng, Bytes &f)
{
    const bool v4 = f.size() >= 34 && load16(f, 12) == 0x0800;
    const bool v6 = f.size() >= 54 && load16(f, 12) == 0x86dd;
    switch (below(rng, 12)) {
    case 0: { // any byte of the headers
        const std::size_t at = below(rng, static_cast<unsigned>(std::min<std::size_t>(f.size(), 90)));
        f[at] = static_cast<std::uint8_t>(rng());
        if (chance(rng, 0.5))
            fix_ipv4_checksum(f);
        return "byte " + std::to_string(at) + " changed";
    }
    case 1: // cut short
        f.resize(below(rng, static_cast<unsigned>(f.size())));
        return "truncated";
    case 2: // padding after the packet
        f.resize(f.size() + 1 + below(rng, 20), 0);
        return "padded";
    case 3: // VLAN tags, one or two, VID 0 or not
        insert_tag(f, chance(rng, 0.5) ? 0x8100 : 0x88a8, static_cast<std::uint16_t>(chance(rng, 0.5) ? 0 : 5));
        if (chance(rng, 0.5))
            insert_tag(f, 0x8100, 0);
        return "tagged";
    case 4: // TTL / hop limit
        if (v4 || v6) {
            f[v4 ? 22 : 21] = pick(rng, std::vector<std::uint8_t>{0, 1, 2, 255});
            fix_ipv4_checksum(f);
            return "ttl";
        }
        return "";
    case 5: // IP lengths
        if (v4) {
            store16(f, 16, static_cast<std::uint16_t>(load16(f, 16) + static_cast<int>(below(rng, 9)) - 4));
            fix_ipv4_checksum(f);
            return "tot_len";
        }
        if (v6) {
            store16(f, 18, static_cast<std::uint16_t>(load16(f, 18) + static_cast<int>(below(rng, 9)) - 4));
            return "payload_len";
        }
        return "";
    case 6: // IPv4 options (4 bytes of NOPs), or an IPv6 extension header in front
        if (v4) {
            const std::uint8_t nops[4] = {1, 1, 1, 0};
            f.insert(f.begin() + 34, nops, nops + 4);
            f[14] = static_cast<std::uint8_t>((f[14] & 0xf0) | 6);
            store16(f, 16, static_cast<std::uint16_t>(load16(f, 16) + 4));
            fix_ipv4_checksum(f);
            return "ipv4 options";
        }
        if (v6) {
            const std::uint8_t type = pick(rng, std::vector<std::uint8_t>{0, 43, 44, 60, 51});
            std::uint8_t ext[8] = {f[20], 0, 0, 0, 0, 0, 0, 0};
            if (type == 44)
                ext[3] = pick(rng, std::vector<std::uint8_t>{0, 1, 8, 9}); // offset / more fragments
            if (type == 51)
                ext[1] = 0; // (0 + 2) * 4 = 8 bytes
            f.insert(f.begin() + 54, ext, ext + 8);
            f[20] = type;
            store16(f, 18, static_cast<std::uint16_t>(load16(f, 18) + 8));
            return "ipv6 extension header " + std::to_string(type);
        }
        return "";
    case 7: // IPv4 fragment bits
        if (v4) {
            store16(f, 20, pick(rng, std::vector<std::uint16_t>{0x2000, 0x2001, 0x0001, 0x0000, 0x4000}));
            fix_ipv4_checksum(f);
            return "fragment";
        }
        return "";
    case 8: { // TCP data offset / UDP length
        const std::size_t l4 = v4 ? 14 + (f[14] & 0xfu) * 4 : 54;
        if ((v4 || v6) && f.size() >= l4 + 14) {
            const std::uint8_t proto = v4 ? f[23] : f[20];
            if (proto == IPPROTO_TCP)
                f[l4 + 12] = static_cast<std::uint8_t>(below(rng, 16) << 4);
            else if (proto == IPPROTO_UDP)
                store16(f, l4 + 4, static_cast<std::uint16_t>(below(rng, 80)));
            return "l4 length";
        }
        return "";
    }
    case 9: // header checksum
        if (v4) {
            f[24] ^= static_cast<std::uint8_t>(1 + below(rng, 255));
            return "ipv4 checksum";
        }
        return "";
    case 10: // destination MAC: broadcast, another host's
        std::memcpy(f.data(), chance(rng, 0.5) ? "\xff\xff\xff\xff\xff\xff" : "\x02\x00\x00\x00\x00\x09", 6);
        return "destination mac";
    default: // an IPv4-mapped or link-local IPv6 address
        if (v6) {
            // IpAddr keeps IPv4 as ::ffff:a.b.c.d, so this is the mapped form of 10.0.0.1.
            const bool mapped = chance(rng, 0.5);
            const IpAddr a = IpAddr::parse(mapped ? "10.0.0.1" : "fe80::1");
            std::memcpy(&f[chance(rng, 0.5) ? 22 : 38], a.raw().b, 16);
            return mapped ? "ipv6 address ::ffff:10.0.0.1" : "ipv6 address fe80::1";
        }
        return "";
    }
}

} // namespace

Shot next_shot(std::mt19937_64 &rng, const World &w)
{
    Shot s;
    switch (below(rng, 6)) {
    case 0:
        s = to_published(rng, w);
        break;
    case 1:
        s = client_next(rng, w);
        break;
    case 2:
        s = backend_answer(rng, w);
        break;
    case 3:
        s = icmp_error(rng, w);
        break;
    default:
        s = container_traffic(rng, w);
        break;
    }
    if (chance(rng, 0.35)) {
        const std::string m = mutate(rng, s.frame);
        if (!m.empty())
            s.what += ", " + m;
    }
    return s;
}

} // namespace fp::fuzz

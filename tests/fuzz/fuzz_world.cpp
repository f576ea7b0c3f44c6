#include "fuzz_world.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <sstream>

#include "config_counts.hpp"
#include "endpoint_prefixes.hpp"
#include "test_world.hpp"

namespace fp::fuzz {

namespace {

IpAddr ip(const char *text) { return IpAddr::parse(text); }

template <class T>
const T &pick(std::mt19937_64 &rng, const std::vector<T> &v)
{
    return v[std::uniform_int_distribution<std::size_t>(0, v.size() - 1)(rng)];
}

bool chance(std::mt19937_64 &rng, double p) { return std::bernoulli_distribution(p)(rng); }

std::string proto_name(std::uint8_t p) { return p == IPPROTO_TCP ? "tcp" : p == IPPROTO_UDP ? "udp" : std::to_string(p); }

std::string addr_str(const fp_addr &a) { return IpAddr::from_raw(a).str(); }

// The published addresses of a family: a host address, "any", and one that is nobody's.
std::vector<IpAddr> published_addrs(bool v4)
{
    return v4 ? std::vector<IpAddr>{ip("10.99.0.1"), ip("0.0.0.0"), ip("10.0.0.254")}
              : std::vector<IpAddr>{ip("fd99::1"), ip("::"), ip("fd00::fe")};
}

const std::vector<std::uint16_t> kPorts = {80, 443, 8080};
const std::vector<std::uint16_t> kBackendPorts = {80, 5001, 8080};

// One flow as the datapath makes it (the reference model's spec of a new flow).
void seed_flow(std::mt19937_64 &rng, World &w, const IpAddr &client, std::uint16_t cport, const IpAddr &published,
               std::uint16_t pport, std::uint8_t proto, const fp_addr &backend, std::uint16_t bport,
               std::uint64_t now)
{
    fp_ct_entry orig{}, reply{};
    orig.saddr = client.raw();
    orig.sport = htons(cport);
    orig.daddr = backend;
    orig.dport = htons(bport);
    if (std::memcmp(&backend, &client.raw(), 16) == 0) {
        orig.saddr = published.raw();
        orig.flags |= FP_CT_SNAT;
    }
    reply.saddr = published.raw();
    reply.sport = htons(pport);
    reply.daddr = client.raw();
    reply.dport = htons(cport);
    const bool assured = chance(rng, 0.4);
    std::uint8_t flags = 0;
    if (chance(rng, 0.6))
        flags |= FP_CT_SEEN_REPLY;
    if (proto == IPPROTO_TCP && (flags & FP_CT_SEEN_REPLY) && !assured && chance(rng, 0.7)) {
        flags |= FP_CT_SYNACK_SEEN;
        orig.handshake_ack = 0x3001;
    }
    if (proto == IPPROTO_TCP && chance(rng, 0.15))
        flags |= chance(rng, 0.5) ? FP_CT_FIN_ORIG : FP_CT_RST;
    if (assured)
        flags |= FP_CT_ASSURED | FP_CT_SEEN_REPLY;
    orig.flags |= flags;
    reply.flags = static_cast<std::uint8_t>(orig.flags & ~FP_CT_SYNACK_SEEN);
    // Live for a while, or just past its deadline.
    const std::uint64_t expires = chance(rng, 0.8) ? now + 30'000'000'000ull : now - 1'000'000'000ull;
    orig.expires_ns = reply.expires_ns = expires;
    orig.packets = 1;
    orig.bytes = 60;
    fp_ct_key okey{}, rkey{};
    okey.saddr = client.raw();
    okey.daddr = published.raw();
    okey.sport = htons(cport);
    okey.dport = htons(pport);
    okey.proto = proto;
    okey.dir = FP_CT_ORIGINAL;
    rkey.saddr = orig.daddr;
    rkey.daddr = orig.saddr;
    rkey.sport = orig.dport;
    rkey.dport = orig.sport;
    rkey.proto = proto;
    rkey.dir = FP_CT_REPLY;
    CtTable &table = assured ? w.ct : w.ct_new;
    // The LRU may have dropped one entry of a new flow.
    const int orphan = assured || !chance(rng, 0.15) ? 0 : chance(rng, 0.5) ? 1 : 2;
    if (orphan != 1)
        table[okey] = orig;
    if (orphan != 2)
        table[rkey] = reply;
}

} // namespace

const AddressPool &address_pool()
{
    static const AddressPool pool{
        {ip("10.0.0.1"), ip("10.0.0.2"), ip("10.0.0.3"), ip("10.0.0.4"), ip("10.0.0.11"), ip("10.0.0.254"),
         ip("10.99.0.1"), ip("10.99.0.5"), ip("10.99.0.7"), ip("192.0.2.9"), ip("127.0.0.1"), ip("0.0.0.0"),
         ip("224.0.0.1"), ip("255.255.255.255"), ip("169.254.0.1")},
        {ip("fd00::1"), ip("fd00::2"), ip("fd00::3"), ip("fd00::fe"), ip("fd99::1"), ip("fd99::5"), ip("fd99::7"),
         ip("2001:db8::9"), ip("fe80::1"), ip("::"), ip("::1"), ip("ff02::1")}};
    return pool;
}

const AddressPool &lan_clients()
{
    static const AddressPool pool{{ip("10.99.0.5"), ip("10.99.0.7"), ip("192.0.2.9")},
                                  {ip("fd99::5"), ip("fd99::7"), ip("2001:db8::9")}};
    return pool;
}

const Endpoint *World::endpoint_of(const fp_addr &addr) const
{
    for (const Endpoint &e : endpoints)
        for (const IpAddr &a : e.addrs)
            if (std::memcmp(&a.raw(), &addr, sizeof addr) == 0)
                return &e;
    return nullptr;
}

const Endpoint *World::endpoint_on(std::uint32_t ifindex) const
{
    for (const Endpoint &e : endpoints)
        if (e.dev.ifindex == ifindex && e.kind != FP_EP_REMOTE)
            return &e;
    return nullptr;
}

World random_world(std::mt19937_64 &rng, const test::ProgDevices &devs, std::uint64_t now_ns)
{
    World w;
    w.uplink = devs.up0;
    const std::vector<std::uint32_t> zones = {0, 0, 7, 9};
    Endpoint e1{devs.h1, 1, FP_EP_VETH, pick(rng, zones), {ip("10.0.0.1"), ip("fd00::1")}};
    if (chance(rng, 0.3))
        e1.addrs.push_back(ip("10.0.0.11"));
    w.endpoints.push_back(e1);
    w.endpoints.push_back(
        Endpoint{devs.h2, 2, chance(rng, 0.2) ? FP_EP_TAP : FP_EP_VETH, pick(rng, zones), {ip("10.0.0.2"), ip("fd00::2")}});
    if (chance(rng, 0.4))
        w.endpoints.push_back(Endpoint{devs.tun0, 3, FP_EP_TUN, 0, {ip("10.0.0.3"), ip("fd00::3")}});
    if (chance(rng, 0.3)) // another host's container, reached through the uplink
        w.endpoints.push_back(Endpoint{devs.up0, 4, FP_EP_REMOTE, 0, {ip("10.0.0.4")}});
    for (const char *a : {"10.99.0.1", "fd99::1"})
        if (chance(rng, 0.8))
            w.local_addrs.insert(ip(a));

    // Backends are endpoints' addresses of the published address's family (mostly E1's, E2's).
    const auto backend_for = [&](bool v4) {
        std::vector<IpAddr> c;
        for (const Endpoint &e : w.endpoints)
            if (e.kind != FP_EP_REMOTE)
                for (const IpAddr &a : e.addrs)
                    if (a.is_v4() == v4 && (e.slot != 3 || chance(rng, 0.2)))
                        c.push_back(a);
        return pick(rng, c);
    };
    const auto count_backend = [&](const IpAddr &addr, std::uint8_t proto, std::uint16_t port) {
        fp_backend_key k{};
        k.addr = addr.raw();
        k.port = htons(port);
        k.proto = proto;
        ++w.backends[k];
    };
    const int singles = std::uniform_int_distribution<int>(0, 4)(rng);
    for (int i = 0; i < singles; ++i) {
        const bool v4 = chance(rng, 0.6);
        fp_dnat_key k{};
        k.addr = pick(rng, published_addrs(v4)).raw();
        k.port = htons(pick(rng, kPorts));
        k.proto = chance(rng, 0.6) ? IPPROTO_TCP : IPPROTO_UDP;
        if (w.dnat.count(k))
            continue;
        fp_dnat_backend b{};
        const IpAddr backend = backend_for(v4);
        b.addr = backend.raw();
        b.port = htons(pick(rng, kBackendPorts));
        w.dnat[k] = b;
        count_backend(backend, k.proto, ntohs(b.port));
    }
    const int sets = std::uniform_int_distribution<int>(0, 2)(rng);
    for (int i = 0; i < sets; ++i) {
        const bool v4 = chance(rng, 0.6);
        fp_range_key k{};
        k.addr = pick(rng, published_addrs(v4)).raw();
        k.proto = chance(rng, 0.6) ? IPPROTO_TCP : IPPROTO_UDP;
        if (w.ranges.count(k))
            continue;
        fp_range_set set{};
        const int n = std::uniform_int_distribution<int>(1, 3)(rng);
        for (int r = 0; r < n; ++r) {
            fp_port_range &range = set.ranges[set.count++];
            range.first = static_cast<std::uint16_t>(1000 * (r + 1));
            range.last = static_cast<std::uint16_t>(range.first + std::uniform_int_distribution<int>(0, 7)(rng));
            range.backend_first = chance(rng, 0.5) ? range.first : static_cast<std::uint16_t>(5000 + 100 * r);
            const IpAddr backend = backend_for(v4);
            range.backend = backend.raw();
            for (int p = range.first; p <= range.last; ++p)
                count_backend(backend, k.proto, static_cast<std::uint16_t>(range.backend_first + (p - range.first)));
        }
        w.ranges[k] = set;
    }
    const int marks = std::uniform_int_distribution<int>(0, 2)(rng);
    for (int i = 0; i < marks; ++i) {
        fp_mark_key k{};
        k.addr = chance(rng, 0.3) ? fp_addr{} : backend_for(chance(rng, 0.6)).raw();
        k.port = htons(chance(rng, 0.5) ? pick(rng, kBackendPorts) : std::uint16_t{40000});
        k.proto = chance(rng, 0.6) ? IPPROTO_TCP : IPPROTO_UDP;
        k.match = chance(rng, 0.6) ? FP_MARK_SOURCE : FP_MARK_DESTINATION;
        w.marks[k] = fp_mark{static_cast<std::uint32_t>(0x100 * (i + 1)), chance(rng, 0.5) ? 0xff00u : 0xffffffffu};
    }

    // Flows through the published ports, from LAN clients (and containers: hairpin).
    const int flows = std::uniform_int_distribution<int>(0, 3)(rng);
    for (int i = 0; i < flows && !w.dnat.empty(); ++i) {
        auto it = w.dnat.begin();
        std::advance(it, std::uniform_int_distribution<std::size_t>(0, w.dnat.size() - 1)(rng));
        const IpAddr published = IpAddr::from_raw(it->first.addr);
        const bool v4 = published.is_v4();
        // An "any" entry's flows are to one host address.
        const IpAddr to = published.is_any() ? (v4 ? ip("10.99.0.1") : ip("fd99::1")) : published;
        IpAddr client = pick(rng, v4 ? lan_clients().v4 : lan_clients().v6);
        if (chance(rng, 0.2))
            client = IpAddr::from_raw(it->second.addr); // a backend reaching its own published port
        seed_flow(rng, w, client, chance(rng, 0.5) ? 40000 : 40001, to, ntohs(it->first.port), it->first.proto,
                  it->second.addr, ntohs(it->second.port), now_ns);
    }
    // A SYN that reached a backend directly left a marker.
    if (!w.backends.empty() && chance(rng, 0.15)) {
        const fp_backend_key &b = w.backends.begin()->first;
        const IpAddr client = pick(rng, IpAddr::from_raw(b.addr).is_v4() ? lan_clients().v4 : lan_clients().v6);
        fp_ct_key k{};
        k.saddr = b.addr;
        k.daddr = client.raw();
        k.sport = b.port;
        k.dport = htons(40002);
        k.proto = IPPROTO_TCP;
        k.dir = FP_CT_REPLY;
        fp_ct_entry e{};
        e.saddr = b.addr;
        e.daddr = client.raw();
        e.sport = b.port;
        e.dport = htons(40002);
        e.flags = FP_CT_DIRECT;
        e.expires_ns = now_ns + 30'000'000'000ull;
        w.ct_new[k] = e;
    }
    return w;
}

void World::write_to(MapSet &maps)
{
    const auto clear = [](auto &map) {
        for (const auto &[k, v] : map.entries())
            map.erase(k);
    };
    clear(maps.endpoints);
    clear(maps.ifaces);
    clear(maps.tx_devs);
    clear(maps.dnat);
    clear(maps.ranges);
    clear(maps.backends);
    clear(maps.local_addrs);
    clear(maps.ct);
    clear(maps.ct_new);
    clear(maps.marks);
    for (const Endpoint &e : endpoints) {
        fp_endpoint ep{};
        ep.ifindex = e.dev.ifindex;
        ep.slot = e.slot;
        ep.kind = static_cast<std::uint8_t>(e.kind);
        ep.zone = e.zone;
        e.dev.peer_mac.copy_to(ep.mac);
        e.dev.mac.copy_to(ep.host_mac);
        for (const IpAddr &a : e.addrs) {
            mark_endpoint_prefix(maps, a);
            maps.endpoints.upsert(endpoint_key(a), ep);
        }
        if (e.kind == FP_EP_REMOTE)
            continue;
        fp_iface rec{};
        rec.role = FP_ROLE_ENDPOINT;
        rec.slot = e.slot;
        rec.kind = static_cast<std::uint8_t>(e.kind);
        rec.nr_addrs = static_cast<std::uint32_t>(e.addrs.size());
        e.dev.peer_mac.copy_to(rec.mac);
        maps.ifaces.upsert(iface_key(e.dev.ifindex), rec);
        if (e.kind != FP_EP_TUN)
            maps.tx_devs.upsert(e.dev.ifindex, e.dev.ifindex);
    }
    fp_iface up{};
    up.role = FP_ROLE_UPLINK;
    uplink.mac.copy_to(up.mac);
    maps.ifaces.upsert(iface_key(uplink.ifindex), up);
    for (const IpAddr &a : local_addrs)
        maps.local_addrs.upsert(fp_local_addr_key{a.raw()}, 1);
    for (const auto &[k, v] : dnat)
        maps.dnat.upsert(k, v);
    for (const auto &[k, v] : ranges)
        maps.ranges.upsert(k, v);
    for (const auto &[k, v] : backends)
        maps.backends.upsert(k, v);
    for (const auto &[k, v] : marks)
        maps.marks.upsert(k, v);
    for (const auto &[k, v] : ct)
        maps.ct.upsert(k, v);
    for (const auto &[k, v] : ct_new)
        maps.ct_new.upsert(k, v);
    maps.config.upsert(0, fp_config{});
    recount_config(maps);
    config = *maps.config.lookup(0);
}

std::string World::describe() const
{
    std::ostringstream out;
    for (const Endpoint &e : endpoints) {
        out << "  endpoint " << e.dev.name << " slot " << e.slot << " kind " << int(e.kind) << " zone " << e.zone << ":";
        for (const IpAddr &a : e.addrs)
            out << " " << a.str();
        out << "\n";
    }
    out << "  local addresses:";
    for (const IpAddr &a : local_addrs)
        out << " " << a.str();
    out << "\n";
    for (const auto &[k, v] : dnat)
        out << "  dnat " << proto_name(k.proto) << " " << addr_str(k.addr) << " " << ntohs(k.port) << " -> "
            << addr_str(v.addr) << " " << ntohs(v.port) << " flags " << int(v.flags) << "\n";
    for (const auto &[k, v] : ranges)
        for (std::uint32_t i = 0; i < v.count; ++i)
            out << "  range " << proto_name(k.proto) << " " << addr_str(k.addr) << " " << v.ranges[i].first << "-"
                << v.ranges[i].last << " -> " << addr_str(v.ranges[i].backend) << " " << v.ranges[i].backend_first
                << "\n";
    for (const auto &[k, v] : marks)
        out << "  mark " << (k.match == FP_MARK_SOURCE ? "from " : "to ") << proto_name(k.proto) << " "
            << addr_str(k.addr) << " " << ntohs(k.port) << " value " << std::hex << v.value << " mask " << v.mask
            << std::dec << "\n";
    const auto flows = [&](const char *table, const CtTable &t) {
        for (const auto &[k, v] : t)
            out << "  " << table << (k.dir == FP_CT_ORIGINAL ? " orig " : " reply ") << proto_name(k.proto) << " "
                << addr_str(k.saddr) << " " << ntohs(k.sport) << " > " << addr_str(k.daddr) << " " << ntohs(k.dport)
                << " => " << addr_str(v.saddr) << " " << ntohs(v.sport) << " > " << addr_str(v.daddr) << " "
                << ntohs(v.dport) << " flags 0x" << std::hex << int(v.flags) << std::dec << " ack " << v.handshake_ack
                << "\n";
    };
    flows("ct", ct);
    flows("ct_new", ct_new);
    return out.str();
}

} // namespace fp::fuzz

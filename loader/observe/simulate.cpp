#include "simulate.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <sstream>

#include "conntrack.hpp"
#include "counters.hpp"
#include "dnat_table.hpp"
#include "error.hpp"
#include "mark_rules.hpp"
#include "masq_rules.hpp"
#include "netdev.hpp"
#include "packet.hpp"
#include "policy.hpp"
#include "port_spec.hpp"
#include "prog_run.hpp"
#include "programs.hpp"
#include "trace_event.hpp"
#include "trace_session.hpp"

namespace fp {

namespace {

// The source MAC of a frame from the LAN: locally administered, nobody's.
const MacAddr kLanMac = MacAddr::parse("02:5e:00:00:00:01");

std::uint8_t tcp_flags_of(const std::string &letters)
{
    std::uint8_t f = 0;
    for (const char c : letters) {
        switch (c) {
        case 'F': f |= 0x01; break;
        case 'S': f |= 0x02; break;
        case 'R': f |= 0x04; break;
        case 'P': f |= 0x08; break;
        case 'A': f |= 0x10; break;
        case 'U': f |= 0x20; break;
        default: throw Error("flags '" + letters + "': letters of F, S, R, P, A, U (SA: a SYN-ACK)");
        }
    }
    return f;
}

std::string flags_str(std::uint8_t f)
{
    std::string s;
    for (const auto &[bit, c] : {std::pair{0x02, 'S'}, {0x10, 'A'}, {0x01, 'F'}, {0x04, 'R'}, {0x08, 'P'}, {0x20, 'U'}})
        if (f & bit)
            s += c;
    return s;
}

bool is_icmp(std::uint8_t proto)
{
    return proto == 1 || proto == 58;
}

// One side of the description: an address, with a port for TCP and UDP.
void side_of(const std::string &text, std::uint8_t proto, IpAddr &addr, std::uint16_t &port, const char *which)
{
    Backend b;
    if (const auto alone = IpAddr::try_parse(text)) { // IPv6 without brackets too
        b.addr = *alone;
    } else {
        try {
            b = parse_backend(text);
        } catch (const Error &) {
            throw Error(std::string(which) + " " + text + ": an address, with a port for tcp and udp (10.0.0.1:80, "
                        "[fd00::1]:80)");
        }
    }
    addr = b.addr;
    if (is_icmp(proto)) {
        if (b.ports)
            throw Error(std::string(which) + " " + text + ": ICMP has no ports (an echo's identifier: id N)");
        return;
    }
    if (!b.ports || !b.ports->single())
        throw Error(std::string(which) + " " + text + ": give one port (" + (b.addr.is_v4() ? "10.0.0.1:80" : "[fd00::1]:80") + ")");
    port = b.ports->first;
}

// The frame: from an endpoint its own MAC to its gateway's, from the LAN to the uplink's.
struct Arrival {
    NetDev dev;
    fp_iface rec{};
    bool uplink = false;
    MacAddr src_mac, dst_mac;
};

Arrival arrival_of(MapSet &live, const std::string &text)
{
    Arrival a;
    if (text.starts_with("uplink:")) {
        a.dev = NetDev::by_name(text.substr(7));
        const auto rec = live.ifaces.lookup(iface_key(a.dev.ifindex));
        if (!rec || rec->role != FP_ROLE_UPLINK)
            throw Error("--from " + text + ": " + a.dev.name + " is no uplink of the datapath (flatpath up --uplink " +
                        a.dev.name + ")");
        a.rec = *rec;
        a.uplink = true;
        a.src_mac = kLanMac;
        a.dst_mac = a.dev.mac;
        return a;
    }
    if (const auto addr = IpAddr::try_parse(text)) {
        const auto ep = live.endpoints.lookup(endpoint_key(*addr));
        if (!ep)
            throw Error("--from " + text + ": no endpoint of this host has that address (flatpath endpoint list)");
        const auto dev = NetDev::by_index(ep->ifindex);
        if (!dev)
            throw Error("--from " + text + ": its device is gone");
        a.dev = *dev;
    } else {
        a.dev = NetDev::by_name(text);
    }
    const auto rec = live.ifaces.lookup(iface_key(a.dev.ifindex));
    if (!rec || rec->role != FP_ROLE_ENDPOINT)
        throw Error("--from " + text + ": " + a.dev.name + " is no endpoint device (flatpath endpoint list)");
    a.rec = *rec;
    a.src_mac = MacAddr::from(rec->mac);
    a.dst_mac = a.dev.mac;
    return a;
}

template <class Map>
void copy_entries(const Map &from, Map &to)
{
    for (const auto &[k, v] : from.entries())
        to.upsert(k, v);
}

// Every table the programs read, as it is now.
void copy_tables(const MapSet &live, MapSet &copy)
{
    copy_entries(live.endpoints, copy.endpoints);
    // The prefixes as they are, even if damaged (the simulation shows what the datapath
    // does): only the marked buckets, the copy's array starting all 0.
    for (const auto &[bucket, set] : live.ep_prefixes.entries())
        if (set)
            copy.ep_prefixes.upsert(bucket, set);
    copy_entries(live.ifaces, copy.ifaces);
    copy_entries(live.tx_devs, copy.tx_devs);
    copy_entries(live.dnat, copy.dnat);
    copy_entries(live.ranges, copy.ranges);
    copy_entries(live.local_addrs, copy.local_addrs);
    copy_entries(live.backends, copy.backends);
    copy_entries(live.ct, copy.ct);
    copy_entries(live.ct_new, copy.ct_new);
    copy_entries(live.marks, copy.marks);
    copy_entries(live.config, copy.config);
    copy_entries(live.masq, copy.masq);
    copy_entries(live.masq_except, copy.masq_except);
    copy_entries(live.cluster, copy.cluster);
    copy_entries(live.policy, copy.policy);
    copy_entries(live.policy_flows, copy.policy_flows);
}

std::optional<fp_ct_entry> ct_lookup(MapSet &m, const fp_ct_key &k)
{
    if (auto e = m.ct.lookup(k))
        return e;
    return m.ct_new.lookup(k);
}

fp_ct_key key_of(const SimPacket &p, fp_ct_dir dir)
{
    fp_ct_key k{};
    k.saddr = p.src.raw();
    k.daddr = p.dst.raw();
    k.sport = htons(p.sport); // an echo request's identifier stands in for its port
    k.dport = htons(is_icmp(p.proto) ? 0 : p.dport);
    k.proto = p.proto;
    k.dir = static_cast<__u8>(dir);
    return k;
}

// The reply the live flow of p (its original direction) expects from its other side.
SimPacket reply_of(MapSet &live, const SimPacket &p)
{
    if (is_icmp(p.proto))
        throw Error("--reply: the reply of a TCP or UDP flow (an echo's is an echo reply: send one from --from)");
    const auto orig = ct_lookup(live, key_of(p, FP_CT_ORIGINAL));
    if (!orig)
        throw Error("--reply: no translated flow " + p.str() + " is tracked (flatpath ct list)");
    SimPacket r = p;
    r.src = IpAddr::from_raw(orig->daddr);
    r.dst = IpAddr::from_raw(orig->saddr);
    r.sport = ntohs(orig->dport);
    r.dport = ntohs(orig->sport);
    r.tcp_flags = p.tcp_flags == 0x02 ? 0x12 : 0x10; // a SYN is answered by a SYN-ACK
    return r;
}

std::vector<std::uint8_t> frame_of(const SimPacket &p, const Arrival &a)
{
    Packet f;
    f.src_mac = a.src_mac;
    f.dst_mac = a.dst_mac;
    f.l3 = p.src.is_v4() ? L3::IPv4 : L3::IPv6;
    f.src = p.src;
    f.dst = p.dst;
    f.proto = p.proto;
    f.tcp_flags = p.tcp_flags;
    f.sport = p.sport;
    f.dport = p.dport;
    if (is_icmp(p.proto)) {
        f.icmp_type = p.proto == 1 ? 8 : 128; // echo request
        f.icmp_code = 0;
        f.icmp_rest = static_cast<std::uint32_t>(p.sport) << 16 | 1;
    }
    std::vector<std::uint8_t> frame = f.bytes();
    if (!a.dev.l2) // a tun's or an L3 uplink's packet has no Ethernet header
        frame.erase(frame.begin(), frame.begin() + 14);
    return frame;
}

std::string published_to(const DnatRule &r)
{
    return r.published() + " -> " + r.backend.with_port(r.backend_ports.str());
}

// The live entries that decide what happens to p (as it arrives) and to its translation.
std::vector<std::string> deciding_entries(const PinRoot &root, MapSet &live, const SimPacket &p, const Arrival &a,
                                          const fp_flow_tuple &after)
{
    std::vector<std::string> out;
    const auto endpoint_on = [&](const IpAddr &addr) -> std::string {
        const auto ep = live.endpoints.lookup(endpoint_key(addr));
        if (!ep)
            return "";
        const auto dev = NetDev::by_index(ep->ifindex);
        return dev ? dev->name : "if" + std::to_string(ep->ifindex);
    };
    const std::string source_on = endpoint_on(p.src);
    if (!a.uplink)
        out.push_back("fp_endpoints: the source " + p.src.str() +
                      (source_on == a.dev.name ? " is registered on " + source_on : " is not registered on " + a.dev.name));
    else if (!source_on.empty())
        out.push_back("fp_endpoints: the source " + p.src.str() + " is an endpoint's (on " + source_on +
                      "): from an uplink, a spoof");
    if (const auto e = ct_lookup(live, key_of(p, FP_CT_ORIGINAL)))
        out.push_back("fp_ct: the flow's original direction, " + std::string(ct_kind_name(e->kind)) + " to " +
                      IpAddr::from_raw(e->daddr).with_port(std::to_string(ntohs(e->dport))));
    else if (const auto r = ct_lookup(live, key_of(p, FP_CT_REPLY)))
        out.push_back("fp_ct: a reply of a " + std::string(ct_kind_name(r->kind)) + " flow, rewritten to " +
                      IpAddr::from_raw(r->saddr).with_port(std::to_string(ntohs(r->sport))) + " > " +
                      IpAddr::from_raw(r->daddr).with_port(std::to_string(ntohs(r->dport))));
    for (const DnatRule &r : DnatTable(root, live).list()) {
        const bool host = r.host == p.dst || (r.any_host() && r.host.is_v4() == p.dst.is_v4() &&
                                              live.local_addrs.lookup(fp_local_addr_key{p.dst.raw()}));
        if (r.proto == p.proto && host && p.dport >= r.ports.first && p.dport <= r.ports.last)
            out.push_back("fp_dnat: " + published_to(r));
    }
    const IpAddr to = IpAddr::from_raw(after.daddr);
    if (const std::string on = endpoint_on(to); !on.empty())
        out.push_back("fp_endpoints: the destination " + to.str() + " is on " + on);
    if (IpAddr::from_raw(after.saddr) != p.src) // the source was translated
        for (const MasqRule &r : MasqRules(root, live).list())
            if (r.source.contains(p.src))
                out.push_back("fp_masq: " + r.describe());
    for (const MarkRule &m : MarkRules(root, live).list())
        if ((m.match == FP_MARK_SOURCE && (m.any_addr() || m.addr == p.src) && m.port == p.sport && m.proto == p.proto) ||
            (m.match == FP_MARK_DESTINATION && (m.any_addr() || m.addr == p.dst) && m.port == p.dport && m.proto == p.proto))
            out.push_back("fp_marks: " + m.describe());
    for (const IpAddr &end : {p.src, to}) {
        const auto ep = live.endpoints.lookup(endpoint_key(end));
        if (const auto policy = ep ? Policies(root, live).get(ep->ifindex) : std::nullopt)
            out.push_back("fp_policy: " + end.str() + "'s device " + endpoint_on(end) + ": " + policy->summary());
    }
    fp_cluster_key ck{128, to.raw()};
    if (const auto c = live.cluster.lookup(ck))
        out.push_back("fp_cluster: " + to.str() + " is in " +
                      (c->peer.w[0] | c->peer.w[1] | c->peer.w[2] | c->peer.w[3]
                           ? "the subnet of host " + IpAddr::from_raw(c->peer).str()
                           : std::string("the cluster network, which no host has that part of")));
    return out;
}

std::string mac_at(const std::vector<std::uint8_t> &f, std::size_t at)
{
    return f.size() >= at + 6 ? MacAddr::from(f.data() + at).str() : "";
}

} // namespace

std::string SimPacket::str() const
{
    const bool ports = !is_icmp(proto);
    std::string s = protocol_name(proto) + " " + (ports ? src.with_port(std::to_string(sport)) : src.str()) + " > " +
                    (ports ? dst.with_port(std::to_string(dport)) : dst.str());
    if (proto == 6)
        s += " flags " + flags_str(tcp_flags);
    if (!ports)
        s += " id " + std::to_string(sport);
    return s;
}

SimPacket parse_sim_packet(const std::string &text)
{
    std::istringstream in(text);
    std::vector<std::string> w;
    for (std::string word; in >> word;)
        w.push_back(word);
    if (w.size() < 4 || w[2] != ">")
        throw Error("packet '" + text + "': PROTO SRC > DST [flags F] [id N], e.g. 'tcp 192.0.2.7:40000 > 10.90.0.1:8080 flags S'");
    SimPacket p;
    p.proto = w[0] == "icmp" ? 1 : w[0] == "icmpv6" ? 58 : parse_protocol(w[0]);
    side_of(w[1], p.proto, p.src, p.sport, "source");
    side_of(w[3], p.proto, p.dst, p.dport, "destination");
    if (p.src.is_v4() != p.dst.is_v4())
        throw Error("packet '" + text + "': the source and the destination are of two families");
    if ((p.proto == 1 && !p.src.is_v4()) || (p.proto == 58 && p.src.is_v4()))
        throw Error("packet '" + text + "': icmp is IPv4's, icmpv6 IPv6's");
    for (std::size_t i = 4; i < w.size(); i += 2) {
        if (i + 1 >= w.size())
            throw Error("packet '" + text + "': '" + w[i] + "' needs a value");
        if (w[i] == "flags" && p.proto == 6)
            p.tcp_flags = tcp_flags_of(w[i + 1]);
        else if (w[i] == "id" && is_icmp(p.proto))
            p.sport = static_cast<std::uint16_t>(parse_ports(w[i + 1]).first);
        else
            throw Error("packet '" + text + "': '" + w[i] + "' is not for " + w[0] + " (flags: tcp, id: icmp)");
    }
    if (is_icmp(p.proto) && p.sport == 0)
        p.sport = 1;
    return p;
}

SimResult simulate(const PinRoot &root, MapSet &live, const SimSource &from, const SimPacket &packet, bool reply)
{
    const Arrival a = arrival_of(live, from.text);
    SimResult r;
    r.packet = reply ? reply_of(live, packet) : packet;
    r.device = a.dev.name;

    // The copy: fresh maps of this build's programs, filled from the live ones.
    const LoadedPrograms progs = LoadedPrograms::load("");
    MapSet copy = MapSet::from_fds([&](const char *name) { return progs.map_fd(name); });
    copy_tables(live, copy);
    TraceFilter everything;
    everything.kinds = ~0u;
    TraceSession trace(copy, MapFd::dup_of(progs.map_fd(FP_MAP_TRACE_RING)), everything);

    std::vector<Program> chain;
    if (!a.uplink)
        chain = {a.rec.kind == FP_EP_TUN ? Program::TunEndpoint : Program::TcEndpoint};
    else if (!a.dev.l2)
        chain = {Program::L3Uplink};
    else if (a.rec.attached & (FP_ATTACHED_XDP_NATIVE | FP_ATTACHED_XDP_GENERIC))
        chain = {Program::XdpUplink, Program::TcUplink}; // tc sees what XDP passes on
    else
        chain = {Program::TcUplink};
    std::vector<std::uint8_t> frame = frame_of(r.packet, a);
    std::vector<fp_trace_event> events;
    for (const Program p : chain) {
        const bool xdp = p == Program::XdpUplink;
        const ProgRun run = run_program(progs.prog_fd(p), xdp, a.dev.ifindex, frame);
        if (run.error)
            throw_errno(std::string("run ") + program_name(p), run.error);
        trace.poll(std::chrono::milliseconds(0), [&](const fp_trace_event &e) {
            events.push_back(e);
            return true;
        });
        const auto packet_event = std::find_if(events.rbegin(), events.rend(), [](const fp_trace_event &e) {
            return e.kind == FP_TRACE_DROP || e.kind == FP_TRACE_TO_STACK || e.kind == FP_TRACE_FORWARD;
        });
        SimStep step{program_name(p), "", ""};
        if (packet_event != events.rend()) {
            step.action = trace_action_name(*packet_event);
            if (packet_event->kind != FP_TRACE_FORWARD)
                step.reason = reason_name(packet_event->reason);
            r.after = packet_event->after;
        }
        r.steps.push_back(step);
        frame = run.out;
        r.mark = run.mark;
        if (!xdp || run.retval != XDP_PASS)
            break;
    }
    for (const fp_trace_event &e : events) {
        if (e.kind == FP_TRACE_FLOW_NEW)
            r.flows.push_back(std::string(ct_kind_name(e.ct_kind)) + ": " + trace_tuple_str(e.before) + " => " +
                              trace_tuple_str(e.after));
        else if (e.kind == FP_TRACE_POLICY_ALLOW)
            r.flows.push_back("allowed by a policy: " + trace_tuple_str(e.before));
    }
    r.out = frame;
    const std::size_t l3 = a.dev.l2 ? 14 : 0;
    if (a.dev.l2) {
        r.dst_mac = mac_at(frame, 0);
        r.src_mac = mac_at(frame, 6);
    }
    if (frame.size() > l3 + 8)
        r.ttl = (frame[l3] >> 4) == 4 ? frame[l3 + 8] : frame[l3 + 7];

    const SimStep &last = r.steps.back();
    const IpAddr to = IpAddr::from_raw(r.after.daddr);
    if (last.action == "drop") {
        r.goes_to = "nowhere: dropped";
    } else if (last.action == "pass") {
        r.goes_to = "the host stack, which routes it on";
    } else if (const auto ep = copy.endpoints.lookup(endpoint_key(to)); ep) {
        const auto dev = NetDev::by_index(ep->ifindex);
        r.goes_to = (dev ? dev->name : "if" + std::to_string(ep->ifindex)) + " (the endpoint " + to.str() + ")";
    } else {
        r.goes_to = "out of the host towards " + to.str() + " (routed by flatpath)";
    }
    r.decided_by = deciding_entries(root, live, r.packet, a, r.after);
    return r;
}

} // namespace fp

// DNAT, conntrack and marks on the production programs. Every expected output
// packet is built from scratch (packet.cpp computes all checksums), so each row
// also checks the incremental IPv4 and L4 checksum updates.
//
// Map setup for every test: endpoints E1 (10.0.0.1, fd00::1) on h1 and E2
// (10.0.0.2, fd00::2) on h2, uplink up0, host addresses 10.99.0.1 and fd99::1,
// and the published ports below. The namespace routes the LAN (10.99.0.0/24, fd99::/64)
// out of up0, with permanent neighbours for the client .5 / ::5, and forwards, so that
// translated replies are routed as on a real host.
#include <linux/pkt_cls.h>
#include <arpa/inet.h>

#include "config_counts.hpp"
#include "conntrack.hpp"
#include "command.hpp"
#include "prog_fixture.hpp"
#include "rollback.hpp"
#include "test_world.hpp"

namespace fp::test {
namespace {

constexpr std::uint8_t kTcp = 6, kUdp = 17;
constexpr std::uint8_t kSyn = 0x02, kAck = 0x10, kFin = 0x01, kRst = 0x04;
constexpr std::uint32_t kTcOk = TC_ACT_OK, kTcRedirect = TC_ACT_REDIRECT, kTcShot = TC_ACT_SHOT;

const IpAddr kHost4 = IpAddr::parse("10.99.0.1");
const IpAddr kHost6 = IpAddr::parse("fd99::1");
const IpAddr kE1v4 = IpAddr::parse("10.0.0.1");
const IpAddr kE1v6 = IpAddr::parse("fd00::1");
const IpAddr kE2v4 = IpAddr::parse("10.0.0.2");

// A LAN client's packet to the host's address and a port.
Packet lan_to(const IpAddr &dst, std::uint16_t dport, std::uint8_t proto = kTcp, std::uint8_t flags = kSyn)
{
    Packet p = from_lan(dst.is_v4() ? L3::IPv4 : L3::IPv6);
    p.dst = dst;
    p.dport = dport;
    p.proto = proto;
    p.tcp_flags = flags;
    return p;
}

// p with its destination translated to addr:port and routed to the endpoint behind via/to.
Packet dnatted(Packet p, const IpAddr &addr, std::uint16_t port, const MacAddr &via, const MacAddr &to)
{
    p.dst = addr;
    p.dport = port;
    return routed(p, via, to);
}

class DnatTest : public ProgFixture {
protected:
    void SetUp() override
    {
        ProgFixture::SetUp();
        if (HasFatalFailure())
            return;
        add_two_endpoints_and_uplink();
        add_host_addresses();
        publish(kHost4, kTcp, 8080, kE1v4, 80);
        publish(kHost6, kTcp, 8080, kE1v6, 80);
        publish(IpAddr::parse("0.0.0.0"), kUdp, 5353, kE2v4, 53); // any IPv4 host address
        fp_range_set set{};
        set.count = 1;
        set.ranges[0] = fp_port_range{9000, 9099, 7000, 0, kE2v4.raw()};
        maps->ranges.upsert(fp_range_key{kHost4.raw(), kTcp, {}}, set);
        for (std::uint16_t p = 7000; p <= 7099; ++p)
            maps->backends.upsert(fp_backend_key{kE2v4.raw(), htons(p), kTcp, 0}, 1);
        maps->config.upsert(0, fp_config{4, 1, 1, 0});
    }

    void publish(const IpAddr &host, std::uint8_t proto, std::uint16_t port, const IpAddr &backend,
                 std::uint16_t bport)
    {
        maps->dnat.upsert(fp_dnat_key{host.raw(), htons(port), proto, 0}, fp_dnat_backend{backend.raw(), htons(bport), {}});
        maps->backends.upsert(fp_backend_key{backend.raw(), htons(bport), proto, 0}, 1);
    }

    // Where the flow of the LAN client's port 40000 to host:port is: "assured", "new",
    // "split" (its entries in two tables: a bug) or "none".
    std::string flow_table(const IpAddr &host, std::uint16_t port, const IpAddr &backend, std::uint16_t bport,
                           std::uint8_t proto = kTcp)
    {
        const IpAddr client = from_lan(host.is_v4() ? L3::IPv4 : L3::IPv6).src;
        const fp_ct_key o = ct_key(client, 40000, host, port, proto, FP_CT_ORIGINAL);
        const fp_ct_key r = ct_key(backend, bport, client, 40000, proto, FP_CT_REPLY);
        const bool in_ct = maps->ct.lookup(o) && maps->ct.lookup(r);
        const bool in_new = maps->ct_new.lookup(o) && maps->ct_new.lookup(r);
        const bool any_ct = maps->ct.lookup(o) || maps->ct.lookup(r);
        const bool any_new = maps->ct_new.lookup(o) || maps->ct_new.lookup(r);
        if (in_ct && !any_new)
            return "assured";
        if (in_new && !any_ct)
            return "new";
        return any_ct || any_new ? "split" : "none";
    }

    // The three packets of a TCP handshake with E1 through host:8080 (IPv4); returns the
    // verdict of the client's ACK. ack_offset != 0 makes the ACK blind (a wrong number).
    std::uint32_t handshake(std::uint32_t ack_offset = 0)
    {
        run_xdp(up0, lan_to(kHost4, 8080, kTcp, kSyn).bytes());
        Packet synack = sent_by(kC1, kH1, kE1v4, 80, from_lan().src, 40000, kTcp, kSyn | kAck);
        synack.tcp_seq = 0x7000;
        run_tc(Program::TcEndpoint, h1, synack.bytes());
        Packet ack = lan_to(kHost4, 8080, kTcp, kAck);
        ack.tcp_ack = 0x7001 + ack_offset;
        return run_xdp(up0, ack.bytes()).retval;
    }
};

// --- the original direction, per hook and family -------------------------------

TEST_F(DnatTest, XdpTranslatesAndDeliversIPv4)
{
    const Packet in = lan_to(kHost4, 8080);
    expect(run_xdp(up0, in.bytes()), XDP_REDIRECT, dnatted(in, kE1v4, 80, kH1, kC1));
    const auto orig = ct(in.src, 40000, kHost4, 8080, kTcp, FP_CT_ORIGINAL);
    ASSERT_TRUE(orig);
    EXPECT_EQ(IpAddr::from_raw(orig->daddr), kE1v4);
    EXPECT_EQ(ntohs(orig->dport), 80);
    EXPECT_EQ(IpAddr::from_raw(orig->saddr), in.src) << "the client's address is kept";
    const auto reply = ct(kE1v4, 80, in.src, 40000, kTcp, FP_CT_REPLY);
    ASSERT_TRUE(reply);
    EXPECT_EQ(IpAddr::from_raw(reply->saddr), kHost4);
    EXPECT_EQ(ntohs(reply->sport), 8080);
}

TEST_F(DnatTest, XdpTranslatesAndDeliversIPv6)
{
    const Packet in = lan_to(kHost6, 8080);
    expect(run_xdp(up0, in.bytes()), XDP_REDIRECT, dnatted(in, kE1v6, 80, kH1, kC1));
}

TEST_F(DnatTest, TcUplinkTranslatesAndDelivers)
{
    const Packet in = lan_to(kHost4, 8080);
    expect(run_tc(Program::TcUplink, up0, in.bytes()), kTcRedirect, dnatted(in, kE1v4, 80, kH1, kC1));
    const Packet in6 = lan_to(kHost6, 8080);
    expect(run_tc(Program::TcUplink, up0, in6.bytes()), kTcRedirect, dnatted(in6, kE1v6, 80, kH1, kC1));
}

TEST_F(DnatTest, AnyAddressEntryAppliesToHostAddressesOnly)
{
    const Packet in = lan_to(kHost4, 5353, kUdp);
    expect(run_xdp(up0, in.bytes()), XDP_REDIRECT, dnatted(in, kE2v4, 53, kH2, kC2));
    const Packet elsewhere = lan_to(IpAddr::parse("10.99.0.77"), 5353, kUdp);
    expect(run_xdp(up0, elsewhere.bytes()), XDP_PASS, elsewhere);
    const Packet other_family = lan_to(kHost6, 5353, kUdp);
    expect(run_xdp(up0, other_family.bytes()), XDP_PASS, other_family);
}

TEST_F(DnatTest, PortRangeMapsPortToPort)
{
    for (auto [port, backend_port] : {std::pair{9000, 7000}, {9042, 7042}, {9099, 7099}}) {
        SCOPED_TRACE(port);
        const Packet in = lan_to(kHost4, static_cast<std::uint16_t>(port));
        expect(run_xdp(up0, in.bytes()), XDP_REDIRECT,
               dnatted(in, kE2v4, static_cast<std::uint16_t>(backend_port), kH2, kC2));
    }
    const Packet past = lan_to(kHost4, 9100);
    expect(run_xdp(up0, past.bytes()), XDP_PASS, past);
}

TEST_F(DnatTest, UnpublishedPortGoesToTheStack)
{
    const std::uint64_t before = reason_count(FP_HOOK_XDP_UPLINK, FP_PASS_NO_ENDPOINT);
    const Packet in = lan_to(kHost4, 8081);
    expect(run_xdp(up0, in.bytes()), XDP_PASS, in);
    EXPECT_EQ(reason_count(FP_HOOK_XDP_UPLINK, FP_PASS_NO_ENDPOINT), before + 1);
    EXPECT_TRUE(maps->ct.entries().empty());
    EXPECT_TRUE(maps->ct_new.entries().empty());
}

TEST_F(DnatTest, ZeroUdpChecksumStaysZero)
{
    Packet in = lan_to(kHost4, 5353, kUdp);
    in.udp_no_checksum = true;
    expect(run_xdp(up0, in.bytes()), XDP_REDIRECT, dnatted(in, kE2v4, 53, kH2, kC2));
    expect(run_tc(Program::TcUplink, up0, in.bytes()), kTcRedirect, dnatted(in, kE2v4, 53, kH2, kC2));
}

TEST_F(DnatTest, FragmentsGoToTheStackCounted)
{
    Packet frag = lan_to(kHost4, 5353, kUdp);
    frag.ipv4_frag = 0x0010; // fragment offset 16 (x8 bytes): not the first fragment
    const Bytes b = frag.bytes();
    const std::uint64_t before = reason_count(FP_HOOK_XDP_UPLINK, FP_PASS_FRAGMENT);
    const RunResult r = run_xdp(up0, b);
    EXPECT_EQ(r.retval, static_cast<std::uint32_t>(XDP_PASS));
    EXPECT_EQ(r.out, b);
    EXPECT_EQ(reason_count(FP_HOOK_XDP_UPLINK, FP_PASS_FRAGMENT), before + 1);
}

// Transport headers that do not fit their packet are dropped before they are tracked
// (each would otherwise make a flow for a packet the backend drops).
TEST_F(DnatTest, MalformedTransportHeadersMakeNoFlow)
{
    const auto with = [](Packet p, std::size_t at, std::uint8_t value) {
        Bytes b = p.bytes();
        b[at] = value;
        return b;
    };
    constexpr std::size_t kL4 = 14 + 20;
    const std::vector<std::pair<const char *, Bytes>> rows = {
        {"TCP data offset 4", with(lan_to(kHost4, 8080), kL4 + 12, 0x40)},
        {"TCP data offset past the segment", with(lan_to(kHost4, 8080), kL4 + 12, 0xf0)},
        {"UDP length 0", with(lan_to(kHost4, 5353, kUdp), kL4 + 5, 0)},
        {"UDP length past the packet", with(lan_to(kHost4, 5353, kUdp), kL4 + 5, 0xff)},
    };
    for (const auto &[what, frame] : rows) {
        SCOPED_TRACE(what);
        const std::uint64_t before = reason_count(FP_HOOK_XDP_UPLINK, FP_DROP_MALFORMED);
        EXPECT_EQ(run_xdp(up0, frame).retval, static_cast<std::uint32_t>(XDP_DROP));
        EXPECT_EQ(reason_count(FP_HOOK_XDP_UPLINK, FP_DROP_MALFORMED), before + 1);
    }
    EXPECT_TRUE(maps->ct_new.entries().empty());
}

// Without any DNAT entry counted in fp_config, the NAT path is skipped altogether.
TEST_F(DnatTest, NoNatWorkWhenConfigCountsNoEntries)
{
    maps->config.upsert(0, fp_config{});
    const Packet in = lan_to(kHost4, 8080);
    expect(run_xdp(up0, in.bytes()), XDP_PASS, in);
}

// Every family and protocol: the first packet is translated and delivered, the reply
// translated back.
TEST_F(DnatTest, FamiliesAndProtocolsBothWays)
{
    publish(kHost6, kUdp, 5300, kE1v6, 53);
    publish(kHost4, kUdp, 5300, kE1v4, 53);
    publish(kHost6, kTcp, 8443, kE1v6, 443);
    publish(kHost4, kTcp, 8443, kE1v4, 443);
    for (L3 l3 : {L3::IPv4, L3::IPv6}) {
        for (std::uint8_t proto : {kTcp, kUdp}) {
            SCOPED_TRACE(std::string(l3 == L3::IPv4 ? "IPv4 " : "IPv6 ") + (proto == kTcp ? "TCP" : "UDP"));
            const IpAddr host = l3 == L3::IPv4 ? kHost4 : kHost6;
            const IpAddr backend = l3 == L3::IPv4 ? kE1v4 : kE1v6;
            const std::uint16_t port = proto == kTcp ? 8443 : 5300, bport = proto == kTcp ? 443 : 53;
            const Packet in = lan_to(host, port, proto);
            expect(run_xdp(up0, in.bytes()), XDP_REDIRECT, dnatted(in, backend, bport, kH1, kC1));
            const Packet reply = sent_by(kC1, kH1, backend, bport, in.src, in.sport, proto);
            Packet want = reply;
            want.src = host;
            want.sport = port;
            expect(run_tc(Program::TcEndpoint, h1, reply.bytes()), kTcRedirect, routed_to_lan(want));
        }
    }
}

// --- flows: conntrack, replies, hairpin ----------------------------------------

// Later packets of a flow follow conntrack, even after the DNAT entry is gone; the entry
// and the backend endpoint record that a flow was made through them.
TEST_F(DnatTest, EstablishedFlowFollowsConntrack)
{
    const fp_dnat_key key{kHost4.raw(), htons(8080), kTcp, 0};
    EXPECT_EQ(maps->dnat.lookup(key)->flags & FP_DNAT_HAD_FLOWS, 0) << "no flow yet";
    EXPECT_EQ(maps->endpoints.lookup(endpoint_key(kE1v4))->flags, 0) << "no flow yet";
    const Packet syn = lan_to(kHost4, 8080);
    run_xdp(up0, syn.bytes());
    // The entry and the backend remember that a flow was made through them (so removing
    // either scans conntrack).
    EXPECT_EQ(maps->dnat.lookup(key)->flags & FP_DNAT_HAD_FLOWS, FP_DNAT_HAD_FLOWS);
    EXPECT_EQ(maps->endpoints.lookup(endpoint_key(kE1v4))->flags, FP_EP_HAD_FLOWS);
    maps->dnat.erase(key);
    const Packet ack = lan_to(kHost4, 8080, kTcp, kAck);
    expect(run_xdp(up0, ack.bytes()), XDP_REDIRECT, dnatted(ack, kE1v4, 80, kH1, kC1));
}

// --- the established flow's fast path (lib/flow_cache.h) ----------------------------

// An assured flow's packets are delivered by the route its entry caches: the first one
// resolves it (E1's device and MACs, under the tables' generation) and the next ones
// only read it. To show that they do, E1's entry is then taken out of the map behind
// the datapath's back, which no table change does (each moves the generation on): the
// flow's packets are still delivered to E1, by XDP and by tc. Once the generation moves
// (the loader's own advance_generation), the route is resolved again and E1 is gone:
// the packet is translated and left to the stack, and nothing is cached.
TEST_F(DnatTest, AnAssuredFlowIsDeliveredByItsCachedRoute)
{
    ASSERT_EQ(handshake(), XDP_REDIRECT);
    ASSERT_EQ(flow_table(kHost4, 8080, kE1v4, 80), "assured");
    const fp_ct_key key = ct_key(from_lan().src, 40000, kHost4, 8080, kTcp, FP_CT_ORIGINAL);
    EXPECT_EQ(maps->ct.lookup(key)->route.out_ifindex, 0u) << "nothing resolved before the flow was assured";
    Packet data = lan_to(kHost4, 8080, kTcp, kAck);
    data.payload = 100;
    expect(run_xdp(up0, data.bytes()), XDP_REDIRECT, dnatted(data, kE1v4, 80, kH1, kC1));
    const fp_ct_entry e = *maps->ct.lookup(key);
    EXPECT_EQ(e.route.in_ifindex, up0.ifindex);
    EXPECT_EQ(e.route.out_ifindex, h1.ifindex);
    EXPECT_EQ(e.route.slot, 1u);
    EXPECT_EQ(MacAddr::from(e.route.dst_mac), kC1);
    EXPECT_EQ(MacAddr::from(e.route.src_mac), kH1);
    EXPECT_EQ(e.route.generation, maps->config.lookup(0)->generation);

    maps->endpoints.erase(fp_endpoint_key{kE1v4.raw()});
    expect(run_xdp(up0, data.bytes()), XDP_REDIRECT, dnatted(data, kE1v4, 80, kH1, kC1));
    expect(run_tc(Program::TcUplink, up0, data.bytes()), kTcRedirect, dnatted(data, kE1v4, 80, kH1, kC1));
    EXPECT_EQ(maps->ct.lookup(key)->packets, e.packets + 2) << "the flow is still tracked";
    EXPECT_EQ(ep_counters(1).to_packets, 3u + 2u) << "the handshake's SYN and ACK, the first data packet, these two";

    advance_generation(*maps);
    EXPECT_EQ(run_xdp(up0, data.bytes()).retval, XDP_PASS);
    EXPECT_EQ(maps->ct.lookup(key)->route.generation, e.route.generation) << "nothing to resolve to";
}

// A stream nobody answers yet (a UDP feed to a published port) takes the shortcut too,
// from the table of new flows: its second datagram resolves the route, the third uses it.
// The backend's first answer is the full path's (it notes itself in the original entry),
// and so is the client's next datagram, which assures the flow: the shortcut skips no
// step of the flow's life.
TEST_F(DnatTest, AStreamNobodyAnswersIsDeliveredByItsCachedRoute)
{
    const Packet feed = lan_to(kHost4, 5353, kUdp);
    const Packet want = dnatted(feed, kE2v4, 53, kH2, kC2);
    const fp_ct_key key = ct_key(from_lan().src, 40000, kHost4, 5353, kUdp, FP_CT_ORIGINAL);
    expect(run_xdp(up0, feed.bytes()), XDP_REDIRECT, want);
    EXPECT_EQ(maps->ct_new.lookup(key)->route.out_ifindex, 0u) << "made by the full path";
    expect(run_xdp(up0, feed.bytes()), XDP_REDIRECT, want);
    EXPECT_EQ(maps->ct_new.lookup(key)->route.out_ifindex, h2.ifindex);
    expect(run_xdp(up0, feed.bytes()), XDP_REDIRECT, want);
    EXPECT_EQ(maps->ct_new.lookup(key)->packets, 3u);

    run_tc(Program::TcEndpoint, h2, sent_by(kC2, kH2, kE2v4, 53, from_lan().src, 40000, kUdp).bytes());
    EXPECT_TRUE(maps->ct_new.lookup(key)->flags & FP_CT_SEEN_REPLY);
    expect(run_xdp(up0, feed.bytes()), XDP_REDIRECT, want);
    EXPECT_EQ(flow_table(kHost4, 5353, kE2v4, 53, kUdp), "assured");
}

// What changes a flow's state, or is not an ordinary packet, takes the full path even
// with a route cached: a FIN is recorded (the flow then closes on the short timeout),
// a packet whose TTL ends at the host is not forwarded, and a spoofed copy of the flow
// from a local container's address (the client's address given to a container since)
// is dropped as the spoof it is, once the tables' change moved the generation on.
TEST_F(DnatTest, TheFastPathLeavesTheUnusualToTheFullPath)
{
    ASSERT_EQ(handshake(), XDP_REDIRECT);
    const fp_ct_key key = ct_key(from_lan().src, 40000, kHost4, 8080, kTcp, FP_CT_ORIGINAL);
    const Packet data = lan_to(kHost4, 8080, kTcp, kAck);
    expect(run_xdp(up0, data.bytes()), XDP_REDIRECT, dnatted(data, kE1v4, 80, kH1, kC1));
    ASSERT_NE(maps->ct.lookup(key)->route.out_ifindex, 0u);

    Packet last_hop = data;
    last_hop.ttl = 1;
    EXPECT_EQ(run_xdp(up0, last_hop.bytes()).retval, XDP_PASS);
    EXPECT_EQ(reason_count(FP_HOOK_XDP_UPLINK, FP_PASS_TTL), 1u);

    const Packet fin = lan_to(kHost4, 8080, kTcp, kFin | kAck);
    expect(run_xdp(up0, fin.bytes()), XDP_REDIRECT, dnatted(fin, kE1v4, 80, kH1, kC1));
    EXPECT_TRUE(maps->ct.lookup(key)->flags & FP_CT_FIN_ORIG);

    add_endpoint(h2, 2, FP_EP_VETH, {"10.99.0.5"});
    advance_generation(*maps);
    EXPECT_EQ(run_xdp(up0, data.bytes()).retval, XDP_DROP);
    EXPECT_EQ(reason_count(FP_HOOK_XDP_UPLINK, FP_DROP_SPOOF_IP), 1u);
}

// --- the sender's side of the established flow's fast path (lib/flow_cache_sent.h) ---

// The backend's replies in an assured flow take the sender's fast path: the first one
// resolves E1's checks (device, MAC, counters slot) and its mark into the reply entry,
// the next ones read them back. To show that they do, E1's entry and the mark rule are
// then taken out of the maps behind the datapath's back, which no table change does: the
// reply still leaves translated, routed to the LAN, marked, and counted as E1's. A frame
// with another MAC is not the cached sender's: the full path has it (E1 gone: a spoof).
// The route is the host's, looked up per packet, so nothing of it is cached. Once the
// generation moves, the reply is checked again and dropped as the spoof it now is.
TEST_F(DnatTest, AnAssuredFlowsRepliesAreSentByTheCachedChecks)
{
    const fp_mark_key mark_key{kE1v4.raw(), htons(80), kTcp, FP_MARK_SOURCE};
    maps->marks.upsert(mark_key, fp_mark{0x2, 0xff});
    fp_config cfg = *maps->config.lookup(0);
    cfg.mark_rules = 1;
    maps->config.upsert(0, cfg);
    ASSERT_EQ(handshake(), XDP_REDIRECT);
    const fp_ct_key key = ct_key(kE1v4, 80, from_lan().src, 40000, kTcp, FP_CT_REPLY);
    ASSERT_TRUE(maps->ct.lookup(key)) << "not assured";
    Packet reply = sent_by(kC1, kH1, kE1v4, 80, from_lan().src, 40000, kTcp, kAck);
    reply.payload = 100;
    Packet want = reply;
    want.src = kHost4;
    want.sport = 8080;
    RunResult r = run_tc(Program::TcEndpoint, h1, reply.bytes());
    expect(r, kTcRedirect, routed_to_lan(want));
    EXPECT_EQ(r.mark, 0x2u);
    const fp_ct_entry e = *maps->ct.lookup(key);
    EXPECT_EQ(e.route.in_ifindex, h1.ifindex);
    EXPECT_EQ(e.route.from_slot, 1u);
    EXPECT_EQ(MacAddr::from(e.route.from_mac), kC1);
    EXPECT_EQ(e.route.mark_value, 0x2u);
    EXPECT_EQ(e.route.mark_mask, 0xffu);
    EXPECT_EQ(e.route.out_ifindex, 0u) << "the client is off the host: its route is looked up per packet";
    EXPECT_EQ(e.route.generation, maps->config.lookup(0)->generation);

    maps->endpoints.erase(fp_endpoint_key{kE1v4.raw()});
    maps->marks.erase(mark_key);
    const std::uint64_t sent = ep_counters(1).from_packets;
    r = run_tc(Program::TcEndpoint, h1, reply.bytes());
    expect(r, kTcRedirect, routed_to_lan(want));
    EXPECT_EQ(r.mark, 0x2u);
    EXPECT_EQ(maps->ct.lookup(key)->packets, e.packets + 1) << "the flow is still tracked";
    EXPECT_EQ(ep_counters(1).from_packets, sent + 1);

    Packet other_mac = reply;
    other_mac.src_mac = kC2;
    EXPECT_EQ(run_tc(Program::TcEndpoint, h1, other_mac.bytes()).retval, kTcShot);
    EXPECT_EQ(reason_count(FP_HOOK_TC_ENDPOINT, FP_DROP_SPOOF_IP), 1u);
    advance_generation(*maps);
    EXPECT_EQ(run_tc(Program::TcEndpoint, h1, reply.bytes()).retval, kTcShot);
    EXPECT_EQ(reason_count(FP_HOOK_TC_ENDPOINT, FP_DROP_SPOOF_IP), 2u);
    EXPECT_EQ(maps->ct.lookup(key)->route.generation, e.route.generation) << "nothing to resolve to";
}

// The full path translates a reply only from a published backend's port; so does the
// sender's fast path when it resolves: with E1:80 no backend any more (its publication
// gone behind the datapath's back, the generation moved), the flow's reply is left as E1
// sent it (to the stack) and nothing is resolved.
TEST_F(DnatTest, AReplyFromNoLongerPublishedPortIsNotResolved)
{
    ASSERT_EQ(handshake(), XDP_REDIRECT);
    const fp_ct_key key = ct_key(kE1v4, 80, from_lan().src, 40000, kTcp, FP_CT_REPLY);
    ASSERT_TRUE(maps->ct.lookup(key)) << "not assured";
    maps->backends.erase(fp_backend_key{kE1v4.raw(), htons(80), kTcp, 0});
    advance_generation(*maps);
    const Packet reply = sent_by(kC1, kH1, kE1v4, 80, from_lan().src, 40000, kTcp, kAck);
    expect(run_tc(Program::TcEndpoint, h1, reply.bytes()), kTcOk, reply);
    EXPECT_EQ(maps->ct.lookup(key)->route.in_ifindex, 0u) << "resolved for the fast path";
    EXPECT_EQ(maps->ct.lookup(key)->route.generation, 0u);
}

// Where a reply leaves the host is the host's route, looked up per packet: nothing of it
// is cached to go stale. A more specific unreachable route to the client takes the flow's
// next reply (the full path hands it, translated, to the stack, which answers the
// backend), its removal gives the next one back to the LAN, and a neighbour entry
// changed to another MAC is where the next reply is addressed.
TEST_F(DnatTest, AnAssuredFlowsRepliesFollowTheHostsRouteAtOnce)
{
    ASSERT_EQ(handshake(), XDP_REDIRECT);
    const fp_ct_key key = ct_key(kE1v4, 80, from_lan().src, 40000, kTcp, FP_CT_REPLY);
    const Packet reply = sent_by(kC1, kH1, kE1v4, 80, from_lan().src, 40000, kTcp, kAck);
    Packet want = reply;
    want.src = kHost4;
    want.sport = 8080;
    expect(run_tc(Program::TcEndpoint, h1, reply.bytes()), kTcRedirect, routed_to_lan(want));
    ASSERT_EQ(maps->ct.lookup(key)->route.in_ifindex, h1.ifindex) << "resolved";

    Rollback restore;
    const std::string client = from_lan().src.str();
    run_checked({"ip", "route", "add", "unreachable", client + "/32"});
    restore.push("the unreachable route", [client] { run_checked({"ip", "route", "del", "unreachable", client + "/32"}); });
    const std::uint64_t no_route = reason_count(FP_HOOK_TC_ENDPOINT, FP_PASS_NO_ROUTE);
    expect(run_tc(Program::TcEndpoint, h1, reply.bytes()), kTcOk, want);
    EXPECT_EQ(reason_count(FP_HOOK_TC_ENDPOINT, FP_PASS_NO_ROUTE), no_route + 1);
    run_checked({"ip", "route", "del", "unreachable", client + "/32"});
    restore.commit();
    expect(run_tc(Program::TcEndpoint, h1, reply.bytes()), kTcRedirect, routed_to_lan(want));

    const MacAddr moved = MacAddr::parse("02:00:00:00:77:01");
    run_checked({"ip", "neigh", "replace", client, "lladdr", moved.str(), "dev", "up0", "nud", "permanent"});
    restore.push("the LAN client's neighbour entry",
                 [client] { run_checked({"ip", "neigh", "replace", client, "lladdr", kLan.str(), "dev", "up0", "nud", "permanent"}); });
    Packet to_moved = routed_to_lan(want);
    to_moved.dst_mac = moved;
    expect(run_tc(Program::TcEndpoint, h1, reply.bytes()), kTcRedirect, to_moved);
}

// A hairpin flow's replies (E2, a container, reached E1's published port) are for a
// local endpoint: the sender's fast path, tried only for packets to none (forwarding to a
// container pays no conntrack miss for it), leaves them to the full path, which delivers
// them to E2 translated; nothing is resolved in the reply entry.
TEST_F(DnatTest, AnAssuredHairpinFlowsRepliesTakeTheFullPath)
{
    run_tc(Program::TcEndpoint, h2, sent_by(kC2, kH2, kE2v4, 41000, kHost4, 8080, kTcp, kSyn).bytes());
    Packet synack = sent_by(kC1, kH1, kE1v4, 80, kE2v4, 41000, kTcp, kSyn | kAck);
    synack.tcp_seq = 0x7000;
    run_tc(Program::TcEndpoint, h1, synack.bytes());
    Packet ack = sent_by(kC2, kH2, kE2v4, 41000, kHost4, 8080, kTcp, kAck);
    ack.tcp_ack = 0x7001;
    run_tc(Program::TcEndpoint, h2, ack.bytes());
    const fp_ct_key key = ct_key(kE1v4, 80, kE2v4, 41000, kTcp, FP_CT_REPLY);
    ASSERT_TRUE(maps->ct.lookup(key)) << "not assured";

    const Packet back = sent_by(kC1, kH1, kE1v4, 80, kE2v4, 41000, kTcp, kAck);
    Packet want = routed(back, kH2, kC2);
    want.src = kHost4;
    want.sport = 8080;
    const std::uint64_t delivered = ep_counters(2).to_packets;
    expect(run_tc(Program::TcEndpoint, h1, back.bytes()), kTcRedirect, want);
    expect(run_tc(Program::TcEndpoint, h1, back.bytes()), kTcRedirect, want);
    EXPECT_EQ(ep_counters(2).to_packets, delivered + 2);
    EXPECT_EQ(maps->ct.lookup(key)->route.in_ifindex, 0u) << "resolved for the fast path";
}

// The backend's reply leaves with the published address as its source, routed by
// flatpath as the host's tables say: to a client whose neighbour entry is known, with
// the MACs the FIB gives (IPv4 and IPv6); to one whose neighbour is not resolved yet,
// through bpf_redirect_neigh, MACs left for the kernel to fill; and to a client no route
// reaches, translated and handed to the stack, which answers it (pass_no_route).
TEST_F(DnatTest, ReplyGetsThePublishedSourceBackAndIsRouted)
{
    run_xdp(up0, lan_to(kHost4, 8080).bytes());
    const Packet reply = sent_by(kC1, kH1, kE1v4, 80, from_lan().src, 40000);
    Packet want = reply;
    want.src = kHost4;
    want.sport = 8080;
    expect(run_tc(Program::TcEndpoint, h1, reply.bytes()), kTcRedirect, routed_to_lan(want));

    run_xdp(up0, lan_to(kHost6, 8080).bytes());
    const Packet reply6 = sent_by(kC1, kH1, kE1v6, 80, from_lan(L3::IPv6).src, 40000);
    Packet want6 = reply6;
    want6.src = kHost6;
    want6.sport = 8080;
    expect(run_tc(Program::TcEndpoint, h1, reply6.bytes()), kTcRedirect, routed_to_lan(want6));

    Packet unresolved_syn = lan_to(kHost4, 8080);
    unresolved_syn.src = IpAddr::parse("10.99.0.6"); // on up0's subnet, no neighbour entry
    run_xdp(up0, unresolved_syn.bytes());
    const Packet to_unresolved = sent_by(kC1, kH1, kE1v4, 80, unresolved_syn.src, 40000);
    Packet want_neigh = to_unresolved;
    want_neigh.src = kHost4;
    want_neigh.sport = 8080;
    want_neigh.ttl--;
    expect(run_tc(Program::TcEndpoint, h1, to_unresolved.bytes()), kTcRedirect, want_neigh);

    Packet far_syn = lan_to(kHost4, 8080);
    far_syn.src = IpAddr::parse("203.0.113.9"); // no route in the fixture's namespace
    run_xdp(up0, far_syn.bytes());
    const Packet to_far = sent_by(kC1, kH1, kE1v4, 80, far_syn.src, 40000);
    Packet want_far = to_far;
    want_far.src = kHost4;
    want_far.sport = 8080;
    const std::uint64_t before = reason_count(FP_HOOK_TC_ENDPOINT, FP_PASS_NO_ROUTE);
    expect(run_tc(Program::TcEndpoint, h1, to_far.bytes()), kTcOk, want_far);
    EXPECT_EQ(reason_count(FP_HOOK_TC_ENDPOINT, FP_PASS_NO_ROUTE), before + 1);
}

// E2 reaches the port E1 publishes on the host address: delivered straight to E1 with
// E2's own source, and E1's reply comes back to E2 from the published address.
TEST_F(DnatTest, HairpinBetweenContainers)
{
    const Packet out = sent_by(kC2, kH2, kE2v4, 41000, kHost4, 8080, kTcp, kSyn);
    expect(run_tc(Program::TcEndpoint, h2, out.bytes()), kTcRedirect, dnatted(out, kE1v4, 80, kH1, kC1));
    const Packet back = sent_by(kC1, kH1, kE1v4, 80, kE2v4, 41000);
    Packet want = routed(back, kH2, kC2);
    want.src = kHost4;
    want.sport = 8080;
    expect(run_tc(Program::TcEndpoint, h1, back.bytes()), kTcRedirect, want);
}

// E1 reaches its own published port: only then is the source rewritten (to the host
// address), so that E1's answer comes back through the host and is translated.
TEST_F(DnatTest, HairpinToItselfRewritesTheSource)
{
    const Packet out = sent_by(kC1, kH1, kE1v4, 42000, kHost4, 8080, kTcp, kSyn);
    Packet want = dnatted(out, kE1v4, 80, kH1, kC1);
    want.src = kHost4;
    expect(run_tc(Program::TcEndpoint, h1, out.bytes()), kTcRedirect, want);

    const Packet back = sent_by(kC1, kH1, kE1v4, 80, kHost4, 42000);
    Packet want_back = routed(back, kH1, kC1);
    want_back.src = kHost4;
    want_back.sport = 8080;
    want_back.dst = kE1v4;
    expect(run_tc(Program::TcEndpoint, h1, back.bytes()), kTcRedirect, want_back);
}

// --- ICMP errors about translated flows ------------------------------------------

// A router on the way reports that the backend's reply was too big: the error reaches
// the backend, quoting its own packet (PMTU discovery keeps working).
TEST_F(DnatTest, FragmentationNeededReachesTheBackend)
{
    for (L3 l3 : {L3::IPv4, L3::IPv6}) {
        SCOPED_TRACE(l3 == L3::IPv4 ? "IPv4" : "IPv6");
        const IpAddr host = l3 == L3::IPv4 ? kHost4 : kHost6;
        const IpAddr backend = l3 == L3::IPv4 ? kE1v4 : kE1v6;
        const Packet syn = lan_to(host, 8080);
        run_xdp(up0, syn.bytes()); // the flow
        Packet reply_sent = sent_by(kUp0, kLan, host, 8080, syn.src, 40000); // as it left the host
        Packet reply_orig = sent_by(kC1, kH1, backend, 80, syn.src, 40000);  // as the backend sent it
        Packet err = from_lan(l3);
        err.src = IpAddr::parse(l3 == L3::IPv4 ? "10.99.0.254" : "fd99::fe"); // a router
        err.dst = host;
        err.proto = l3 == L3::IPv4 ? 1 : 58;
        err.icmp_type = l3 == L3::IPv4 ? 3 : 2; // frag needed / packet too big
        err.icmp_code = l3 == L3::IPv4 ? 4 : 0;
        err.icmp_rest = l3 == L3::IPv4 ? 1400 : 1400;
        err.icmp_quote = reply_sent.quoted();
        Packet want = routed(err, kH1, kC1);
        want.dst = backend;
        want.icmp_quote = translated_quote(reply_sent, reply_orig);
        expect(run_xdp(up0, err.bytes()), XDP_REDIRECT, want);
        expect(run_tc(Program::TcUplink, up0, err.bytes()), kTcRedirect, want);
    }
}

// The backend has no socket on the port: its port-unreachable goes to the client from the
// published address, quoting the packet as the client sent it.
TEST_F(DnatTest, PortUnreachableFromTheBackendReachesTheClient)
{
    const Packet query = lan_to(kHost4, 5353, kUdp);
    run_xdp(up0, query.bytes()); // the flow: client -> 10.99.0.1:5353 -> 10.0.0.2:53
    Packet delivered = query;
    delivered.dst = kE2v4;
    delivered.dport = 53;
    Packet err = sent_by(kC2, kH2, kE2v4, 0, query.src, 0);
    err.proto = 1;
    err.icmp_type = 3;
    err.icmp_code = 3;
    err.icmp_quote = delivered.quoted();
    Packet want = err;
    want.src = kHost4;
    want.icmp_quote = translated_quote(delivered, query);
    expect(run_tc(Program::TcEndpoint, h2, err.bytes()), kTcRedirect, routed_to_lan(want));
}

// An ICMPv6 error from the backend about a packet that carried extension headers (here
// destination options): the ports are behind them, and the error still leaves from the
// published address, quoting what the client sent.
TEST_F(DnatTest, Icmpv6ErrorsQuotingExtensionHeadersAreTranslated)
{
    Packet syn = lan_to(kHost6, 8080);
    syn.ipv6_ext = {60};
    expect(run_xdp(up0, syn.bytes()), XDP_REDIRECT, dnatted(syn, kE1v6, 80, kH1, kC1));
    Packet delivered = syn;
    delivered.dst = kE1v6;
    delivered.dport = 80;
    delivered.ttl--;
    Packet err = sent_by(kC1, kH1, kE1v6, 0, syn.src, 0);
    err.proto = 58;
    err.icmp_type = 1; // destination unreachable
    err.icmp_code = 4; // port unreachable
    err.icmp_quote = delivered.quoted();
    Packet as_sent = syn;
    as_sent.ttl--;
    Packet want = err;
    want.src = kHost6;
    want.icmp_quote = as_sent.quoted();
    expect(run_tc(Program::TcEndpoint, h1, err.bytes()), kTcRedirect, routed_to_lan(want));
}

// A packet whose TTL (hop limit) ends at the host is not translated and makes no flow:
// the stack sees it as the client sent it, to the host's own address, so whatever it
// answers names the published address, never the backend's.
TEST_F(DnatTest, APacketThatCannotBeForwardedIsNotTranslated)
{
    for (const IpAddr &host : {kHost4, kHost6}) {
        SCOPED_TRACE(host.str());
        Packet in = lan_to(host, 8080);
        in.ttl = 1;
        const std::uint64_t before = reason_count(FP_HOOK_XDP_UPLINK, FP_PASS_TTL);
        expect(run_xdp(up0, in.bytes()), XDP_PASS, in);
        EXPECT_EQ(reason_count(FP_HOOK_XDP_UPLINK, FP_PASS_TTL), before + 1);
        expect(run_tc(Program::TcUplink, up0, in.bytes()), kTcOk, in);
    }
    Packet hairpin = sent_by(kC2, kH2, kE2v4, 40000, kHost4, 8080, kTcp, kSyn);
    hairpin.ttl = 1;
    expect(run_tc(Program::TcEndpoint, h2, hairpin.bytes()), kTcOk, hairpin);
    EXPECT_TRUE(maps->ct.entries().empty());
    EXPECT_TRUE(maps->ct_new.entries().empty());
}

TEST_F(DnatTest, UnrelatedIcmpErrorsGoToTheStack)
{
    Packet err = from_lan();
    err.dst = kHost4;
    err.proto = 1;
    err.icmp_quote = sent_by(kUp0, kLan, kHost4, 9999, err.src, 1234).quoted();
    const std::uint64_t before = reason_count(FP_HOOK_XDP_UPLINK, FP_PASS_ICMP_ERROR);
    expect(run_xdp(up0, err.bytes()), XDP_PASS, err);
    EXPECT_EQ(reason_count(FP_HOOK_XDP_UPLINK, FP_PASS_ICMP_ERROR), before + 1);
}

// --- ageing ---------------------------------------------------------------------

TEST_F(DnatTest, TcpStateSetsTheDeadlines)
{
    const auto seconds_left = [&](fp_ct_dir dir) {
        const auto e = dir == FP_CT_ORIGINAL ? ct(from_lan().src, 40000, kHost4, 8080, kTcp, dir)
                                             : ct(kE1v4, 80, from_lan().src, 40000, kTcp, dir);
        return e ? static_cast<long>((e->expires_ns - monotonic_ns()) / 1000000000ULL) : -1L;
    };
    run_xdp(up0, lan_to(kHost4, 8080, kTcp, kSyn).bytes());
    EXPECT_NEAR(seconds_left(FP_CT_ORIGINAL), FP_CT_TIMEOUT_TCP_SYN, 2);
    Packet synack = sent_by(kC1, kH1, kE1v4, 80, from_lan().src, 40000, kTcp, kSyn | kAck);
    synack.tcp_seq = 0x7000;
    run_tc(Program::TcEndpoint, h1, synack.bytes());
    EXPECT_NEAR(seconds_left(FP_CT_REPLY), FP_CT_TIMEOUT_TCP_SYN, 2) << "a SYN-ACK proves nothing: half-open";
    EXPECT_EQ(flow_table(kHost4, 8080, kE1v4, 80), "new");
    Packet ack = lan_to(kHost4, 8080, kTcp, kAck);
    ack.tcp_ack = 0x7001;
    run_xdp(up0, ack.bytes());
    EXPECT_EQ(flow_table(kHost4, 8080, kE1v4, 80), "assured");
    EXPECT_NEAR(seconds_left(FP_CT_ORIGINAL), FP_CT_TIMEOUT_TCP_ESTABLISHED, 2);
    EXPECT_NEAR(seconds_left(FP_CT_REPLY), FP_CT_TIMEOUT_TCP_ESTABLISHED, 2);
    run_xdp(up0, lan_to(kHost4, 8080, kTcp, kFin | kAck).bytes());
    EXPECT_NEAR(seconds_left(FP_CT_ORIGINAL), FP_CT_TIMEOUT_TCP_CLOSE, 2);
    run_tc(Program::TcEndpoint, h1, sent_by(kC1, kH1, kE1v4, 80, from_lan().src, 40000, kTcp, kRst).bytes());
    EXPECT_NEAR(seconds_left(FP_CT_REPLY), FP_CT_TIMEOUT_TCP_CLOSE, 2);
    EXPECT_TRUE(ct(kE1v4, 80, from_lan().src, 40000, kTcp, FP_CT_REPLY)->flags & FP_CT_RST);
}

// A spoofed source sees no SYN-ACK: an ACK with any other number than the backend's
// ISN + 1 (or one before the SYN-ACK) leaves the flow new, evictable and short-lived.
TEST_F(DnatTest, OnlyTheHandshakesAckAssuresATcpFlow)
{
    EXPECT_EQ(handshake(1), XDP_REDIRECT) << "forwarded: the backend answers a wrong ACK itself";
    EXPECT_EQ(flow_table(kHost4, 8080, kE1v4, 80), "new");
    EXPECT_EQ(handshake(), XDP_REDIRECT);
    EXPECT_EQ(flow_table(kHost4, 8080, kE1v4, 80), "assured");
    const auto orig = ct(from_lan().src, 40000, kHost4, 8080, kTcp, FP_CT_ORIGINAL);
    ASSERT_TRUE(orig);
    EXPECT_TRUE(orig->flags & FP_CT_ASSURED);
    EXPECT_EQ(orig->packets, 4u) << "SYN, ACK, SYN, ACK: the counters moved with the flow";
}

// UDP has no handshake: a flow is assured when the client sends again after a reply
// (a stream), not by one request and one answer (what a spoofed flood gets).
TEST_F(DnatTest, UdpIsAssuredByAnExchange)
{
    const IpAddr client = from_lan().src;
    run_xdp(up0, lan_to(kHost4, 5353, kUdp).bytes());
    run_tc(Program::TcEndpoint, h2, sent_by(kC2, kH2, kE2v4, 53, client, 40000, kUdp).bytes());
    EXPECT_EQ(flow_table(kHost4, 5353, kE2v4, 53, kUdp), "new");
    const auto reply = ct(kE2v4, 53, client, 40000, kUdp, FP_CT_REPLY);
    ASSERT_TRUE(reply);
    EXPECT_NEAR(static_cast<double>(reply->expires_ns - monotonic_ns()) / 1e9, FP_CT_TIMEOUT_UDP, 2);
    run_xdp(up0, lan_to(kHost4, 5353, kUdp).bytes());
    EXPECT_EQ(flow_table(kHost4, 5353, kE2v4, 53, kUdp), "assured");
    const auto orig = ct(client, 40000, kHost4, 5353, kUdp, FP_CT_ORIGINAL);
    ASSERT_TRUE(orig);
    EXPECT_NEAR(static_cast<double>(orig->expires_ns - monotonic_ns()) / 1e9, FP_CT_TIMEOUT_UDP_STREAM, 2);
}

TEST_F(DnatTest, UdpFlowsAgeWithTheUdpTimeout)
{
    run_xdp(up0, lan_to(kHost4, 5353, kUdp).bytes());
    const auto e = ct(from_lan().src, 40000, kHost4, 5353, kUdp, FP_CT_ORIGINAL);
    ASSERT_TRUE(e);
    EXPECT_NEAR(static_cast<double>(e->expires_ns - monotonic_ns()) / 1e9, FP_CT_TIMEOUT_UDP, 2);
}

// A flood of new flows, more than the new table holds, evicts only new flows: the
// assured one stays, and its reply is still translated.
TEST_F(DnatTest, AFloodOfNewFlowsNeverEvictsAnAssuredFlow)
{
    ASSERT_EQ(handshake(), XDP_REDIRECT);
    Packet syn = lan_to(kHost4, 8080, kTcp, kSyn);
    for (std::uint32_t i = 0; i < FP_MAX_CT_NEW / 2 + 20000; ++i) {
        syn.src = IpAddr::from_raw([&] {
            fp_addr a = IpAddr::parse("172.16.0.0").raw();
            a.b[13] = static_cast<std::uint8_t>(i >> 16);
            a.b[14] = static_cast<std::uint8_t>(i >> 8);
            a.b[15] = static_cast<std::uint8_t>(i);
            return a;
        }());
        ASSERT_EQ(run_xdp(up0, syn.bytes()).retval, XDP_REDIRECT);
    }
    EXPECT_EQ(flow_table(kHost4, 8080, kE1v4, 80), "assured");
    EXPECT_LE(maps->ct_new.entries().size(), static_cast<std::size_t>(FP_MAX_CT_NEW));
    EXPECT_EQ(maps->ct.entries().size(), 2u);
    Packet reply = sent_by(kC1, kH1, kE1v4, 80, from_lan().src, 40000, kTcp, kAck);
    Packet want = reply;
    want.src = kHost4;
    want.sport = 8080;
    expect(run_tc(Program::TcEndpoint, h1, reply.bytes()), kTcRedirect, routed_to_lan(want));
}

// When the assured table is full, the ACK that would assure a flow is dropped and
// counted (drop_ct_full): the client retries; nothing goes on untracked.
TEST_F(DnatTest, AFullAssuredTableDropsTheAssuringPacket)
{
    fp_ct_entry filler{};
    filler.expires_ns = ~0ULL;
    for (std::uint32_t i = 0; i < FP_MAX_CT; ++i) {
        fp_ct_key k{};
        k.saddr = IpAddr::parse("192.0.2.1").raw();
        k.sport = static_cast<__be16>(i);
        k.dport = static_cast<__be16>(i >> 16);
        k.proto = kTcp;
        maps->ct.upsert(k, filler);
    }
    const std::uint64_t before = reason_count(FP_HOOK_XDP_UPLINK, FP_DROP_CT_FULL);
    EXPECT_EQ(handshake(), XDP_DROP);
    EXPECT_EQ(reason_count(FP_HOOK_XDP_UPLINK, FP_DROP_CT_FULL), before + 1);
    EXPECT_EQ(flow_table(kHost4, 8080, kE1v4, 80), "new") << "no half-promoted flow";
    fp_ct_key room{};
    room.saddr = IpAddr::parse("192.0.2.1").raw();
    room.proto = kTcp;
    maps->ct.erase(room);
    room.sport = 1;
    maps->ct.erase(room);
    Packet ack = lan_to(kHost4, 8080, kTcp, kAck);
    ack.tcp_ack = 0x7001;
    EXPECT_EQ(run_xdp(up0, ack.bytes()).retval, XDP_REDIRECT) << "the retried ACK";
    EXPECT_EQ(flow_table(kHost4, 8080, kE1v4, 80), "assured");
}

// A published backend's SYN-ACK that no flow knows (a flood evicted its half-open flow)
// would leave with the backend's own address: dropped and counted. To a container or
// the host it goes on (nothing leaks there).
TEST_F(DnatTest, AStraySynAckFromABackendNeverLeavesTheHost)
{
    const Packet stray = sent_by(kC1, kH1, kE1v4, 80, from_lan().src, 40000, kTcp, kSyn | kAck);
    const std::uint64_t before = reason_count(FP_HOOK_TC_ENDPOINT, FP_DROP_NO_FLOW);
    EXPECT_EQ(run_tc(Program::TcEndpoint, h1, stray.bytes()).retval, TC_ACT_SHOT);
    EXPECT_EQ(reason_count(FP_HOOK_TC_ENDPOINT, FP_DROP_NO_FLOW), before + 1);

    const Packet to_container = sent_by(kC1, kH1, kE1v4, 80, kE2v4, 40000, kTcp, kSyn | kAck);
    expect(run_tc(Program::TcEndpoint, h1, to_container.bytes()), kTcRedirect, routed(to_container, kH2, kC2));
    const Packet to_host = sent_by(kC1, kH1, kE1v4, 80, kHost4, 40000, kTcp, kSyn | kAck);
    EXPECT_EQ(run_tc(Program::TcEndpoint, h1, to_host.bytes()).retval, kTcOk);
    const Packet data = sent_by(kC1, kH1, kE1v4, 80, from_lan().src, 40000, kTcp, kAck);
    EXPECT_EQ(run_tc(Program::TcEndpoint, h1, data.bytes()).retval, kTcOk) << "only SYN-ACKs are judged";
}

// Found by the fuzzer: IPv4 options go to the stack, which would send a published
// backend's reply on with the backend's own address. Such packets are dropped; options
// from any other port still go to the stack.
TEST_F(DnatTest, ABackendsPacketWithIpOptionsNeverLeavesUntranslated)
{
    EXPECT_EQ(handshake(), XDP_REDIRECT);
    const Packet reply = sent_by(kC1, kH1, kE1v4, 80, from_lan().src, 40000, kTcp, kAck);
    const std::uint64_t before = reason_count(FP_HOOK_TC_ENDPOINT, FP_DROP_BACKEND_OPTIONS);
    EXPECT_EQ(run_tc(Program::TcEndpoint, h1, with_ipv4_options(reply)).retval, TC_ACT_SHOT);
    EXPECT_EQ(reason_count(FP_HOOK_TC_ENDPOINT, FP_DROP_BACKEND_OPTIONS), before + 1);
    const Packet other = sent_by(kC1, kH1, kE1v4, 5555, from_lan().src, 40000, kUdp);
    EXPECT_EQ(run_tc(Program::TcEndpoint, h1, with_ipv4_options(other)).retval, kTcOk);
    EXPECT_EQ(reason_count(FP_HOOK_TC_ENDPOINT, FP_DROP_BACKEND_OPTIONS), before + 1);
}

// A routed LAN client connecting to the backend's own address and port (not through
// the publication) gets the backend's SYN-ACK untranslated: its SYN marked the flow.
TEST_F(DnatTest, ADirectConnectionToABackendIsAnsweredAsItIs)
{
    Packet syn = from_lan();
    syn.dst = kE1v4;
    syn.proto = kTcp;
    syn.dport = 80;
    syn.tcp_flags = kSyn;
    expect(run_xdp(up0, syn.bytes()), XDP_REDIRECT, routed(syn, kH1, kC1));
    const Packet synack = sent_by(kC1, kH1, kE1v4, 80, syn.src, syn.sport, kTcp, kSyn | kAck);
    expect(run_tc(Program::TcEndpoint, h1, synack.bytes()), kTcOk, synack);
    EXPECT_TRUE(maps->ct.entries().empty()) << "a direct connection is not a translated flow";
}

// A reply entry past its deadline translates nothing.
TEST_F(DnatTest, AnExpiredReplyEntryIsNotUsed)
{
    ASSERT_EQ(handshake(), XDP_REDIRECT);
    const fp_ct_key rk = ct_key(kE1v4, 80, from_lan().src, 40000, kTcp, FP_CT_REPLY);
    fp_ct_entry e = *maps->ct.lookup(rk);
    e.expires_ns = 1;
    maps->ct.upsert(rk, e);
    const Packet reply = sent_by(kC1, kH1, kE1v4, 80, from_lan().src, 40000, kTcp, kAck);
    EXPECT_EQ(run_tc(Program::TcEndpoint, h1, reply.bytes()).retval, kTcOk);
}

// An expired original entry is not used: the flow is looked up in the DNAT table again.
TEST_F(DnatTest, ExpiredFlowIsLookedUpAgain)
{
    run_xdp(up0, lan_to(kHost4, 8080).bytes());
    fp_ct_key key{from_lan().src.raw(), kHost4.raw(), htons(40000), htons(8080), kTcp, FP_CT_ORIGINAL, {}};
    fp_ct_entry e = *maps->ct_new.lookup(key);
    e.expires_ns = 1;
    maps->ct_new.upsert(key, e);
    publish(kHost4, kTcp, 8080, kE2v4, 81);
    const Packet in = lan_to(kHost4, 8080);
    expect(run_xdp(up0, in.bytes()), XDP_REDIRECT, dnatted(in, kE2v4, 81, kH2, kC2));
}

// User space collects a flow once both its entries are past their deadline, and not
// before: a flow that is quiet one way but alive the other stays.
TEST_F(DnatTest, CollectingExpiredFlowsKeepsLiveOnes)
{
    run_xdp(up0, lan_to(kHost4, 5353, kUdp).bytes());                  // flow A
    run_xdp(up0, lan_to(kHost4, 8080).bytes());                        // flow B
    Conntrack ct(*maps);
    ASSERT_EQ(ct.flows().size(), 2u);
    const auto age = [&](const fp_ct_key &k) {
        fp_ct_entry e = *maps->ct_new.lookup(k);
        e.expires_ns = 1;
        maps->ct_new.upsert(k, e);
    };
    for (const Flow &f : ct.flows()) {
        age(f.key);
        if (f.key.proto == kUdp)
            age(reply_key(f.key, f.orig)); // A: both directions quiet
    }
    CtFill remaining;
    EXPECT_EQ(ct.collect_expired(monotonic_ns(), &remaining), 2u) << "flow A's two entries";
    EXPECT_EQ(remaining.unassured, 2u) << "flow B's two entries, counted for the metrics page";
    EXPECT_EQ(remaining.assured, 0u);
    const auto left = ct.flows();
    ASSERT_EQ(left.size(), 1u);
    EXPECT_EQ(left[0].key.proto, kTcp) << "flow B's reply direction is still alive";
    age(reply_key(left[0].key, left[0].orig));
    EXPECT_EQ(ct.collect_expired(monotonic_ns(), &remaining), 2u);
    EXPECT_EQ(remaining.unassured, 0u);
    EXPECT_TRUE(maps->ct_new.entries().empty());
}

// --- marks ----------------------------------------------------------------------

TEST_F(DnatTest, RepliesFromAPublishedPortGetTheMark)
{
    maps->marks.upsert(fp_mark_key{kE1v4.raw(), htons(80), kTcp, FP_MARK_SOURCE}, fp_mark{0x2, 0xff});
    maps->marks.upsert(fp_mark_key{fp_addr{}, htons(53), kUdp, FP_MARK_SOURCE}, fp_mark{0x7, 0xff});
    maps->marks.upsert(fp_mark_key{IpAddr::parse("10.99.0.9").raw(), htons(443), kTcp, FP_MARK_DESTINATION},
                       fp_mark{0x300, 0xf00});
    maps->marks.upsert(fp_mark_key{fp_addr{}, htons(8443), kTcp, FP_MARK_DESTINATION}, fp_mark{0x40, 0xf0});
    fp_config cfg = *maps->config.lookup(0);
    cfg.mark_rules = 4;
    cfg.mark_any_source = 1;
    cfg.mark_destinations = 2;
    cfg.mark_any_destination = 1;
    maps->config.upsert(0, cfg);

    const auto mark_of = [&](const Packet &p, const Dev &dev) { return run_tc(Program::TcEndpoint, dev, p.bytes()).mark; };
    EXPECT_EQ(mark_of(sent_by(kC1, kH1, kE1v4, 80, from_lan().src, 40000), h1), 0x2u);
    EXPECT_EQ(mark_of(sent_by(kC1, kH1, kE1v4, 81, from_lan().src, 40000), h1), 0u) << "another port";
    EXPECT_EQ(mark_of(sent_by(kC2, kH2, kE2v4, 53, from_lan().src, 40000, kUdp), h2), 0x7u) << "any address";
    EXPECT_EQ(mark_of(sent_by(kC2, kH2, kE2v4, 40000, IpAddr::parse("10.99.0.9"), 443), h2), 0x300u)
        << "by destination";
    EXPECT_EQ(mark_of(sent_by(kC2, kH2, kE2v4, 40000, IpAddr::parse("10.99.0.7"), 8443), h2), 0x40u)
        << "by destination, any address";
}

} // namespace
} // namespace fp::test

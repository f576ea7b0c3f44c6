// Egress masquerade on the production programs: a container's new flow to the LAN
// leaves from the host's address of up0 and a port of the masquerade range, its replies
// and the LAN's ICMP errors about it come back translated, a full range drops only new
// flows, and what is no masqueraded flow (excepted destinations, answers to datagrams
// that reached a container directly, ICMP errors about those) is left as it is.
//
// Map setup for every test: the world of prog_fixture.hpp (E1 10.0.0.1 / fd00::1 on h1,
// E2 10.0.0.2 on h2, uplink up0 with 10.99.0.1 / fd99::1 and the LAN client .5 / ::5
// behind it), the host's addresses, and masquerade rules for 10.0.0.0/24 and fd00::/64.
#include <linux/pkt_cls.h>
#include <arpa/inet.h>

#include "config_counts.hpp"
#include "prog_fixture.hpp"
#include "test_world.hpp"

namespace fp::test {
namespace {

constexpr std::uint8_t kTcp = 6, kUdp = 17, kSyn = 0x02, kAck = 0x10;
constexpr std::uint32_t kTcOk = TC_ACT_OK, kTcRedirect = TC_ACT_REDIRECT, kTcShot = TC_ACT_SHOT;
constexpr std::uint32_t kRule4 = 1, kRule6 = 2;

const IpAddr kHost4 = IpAddr::parse("10.99.0.1");
const IpAddr kHost6 = IpAddr::parse("fd99::1");

class MasqTest : public ProgFixture {
protected:
    void SetUp() override
    {
        ProgFixture::SetUp();
        if (HasFatalFailure())
            return;
        add_masquerading_host(); // rules kRule4, kRule6
    }

    void ports(std::uint16_t min, std::uint16_t max) { maps->config.upsert(0, fp_config{0, 0, 0, 0, 2, min, max}); }

    // The host port a masqueraded flow of src:sport -> dst:dport was given (0 if none),
    // from its original entry, which must say so.
    std::uint16_t masq_port(const IpAddr &src, std::uint16_t sport, const IpAddr &dst, std::uint16_t dport,
                            std::uint8_t proto)
    {
        const auto e = ct(src, sport, dst, dport, proto, FP_CT_ORIGINAL);
        if (!e || e->kind != FP_CT_KIND_MASQ)
            return 0;
        return ntohs(e->sport);
    }

    // E1 sends p (out of h1): the host port its masqueraded flow got (0 if none).
    std::uint16_t sent_by_e1(const Packet &p)
    {
        run_tc(Program::TcEndpoint, h1, p.bytes());
        return masq_port(p.src, p.sport, p.dst, p.dport, p.proto);
    }

    // The LAN server's UDP answer from port 53 to the host's masquerade port.
    static Packet lan_answer(std::uint16_t port)
    {
        Packet reply = from_lan();
        reply.dst = kHost4;
        reply.sport = 53;
        reply.dport = port;
        reply.proto = kUdp;
        return reply;
    }

    // A container's packet src:sport -> LAN .5 / ::5 : dport, sent through its gateway.
    static Packet to_lan(const MacAddr &mac, const MacAddr &gw, const IpAddr &src, std::uint16_t sport,
                         std::uint16_t dport, std::uint8_t proto = kTcp, std::uint8_t flags = kSyn)
    {
        return sent_by(mac, gw, src, sport, from_lan(src.is_v4() ? L3::IPv4 : L3::IPv6).src, dport, proto, flags);
    }
};

// A container's TCP SYN to the LAN leaves up0 from the host's address and a port of the
// range, routed by flatpath (up0's MAC to the client's, TTL down); the LAN's SYN-ACK to
// that port reaches the container as the reply to its own packet, under XDP and tc.
TEST_F(MasqTest, AFlowLeavesAsTheHostAndItsRepliesComeBack)
{
    for (const IpAddr &e1 : {IpAddr::parse("10.0.0.1"), IpAddr::parse("fd00::1")}) {
        SCOPED_TRACE(e1.str());
        const IpAddr &host = e1.is_v4() ? kHost4 : kHost6;
        const Packet syn = to_lan(kC1, kH1, e1, 40000, 80);
        EXPECT_EQ(maps->endpoints.lookup(endpoint_key(e1))->flags, 0) << "no flow yet";
        const RunResult out = run_tc(Program::TcEndpoint, h1, syn.bytes());
        // The endpoint remembers that a flow was made from it (removing it scans conntrack).
        EXPECT_EQ(maps->endpoints.lookup(endpoint_key(e1))->flags, FP_EP_HAD_FLOWS);
        const std::uint16_t port = masq_port(e1, 40000, syn.dst, 80, kTcp);
        ASSERT_GE(port, FP_MASQ_PORT_MIN_DEFAULT) << "no masqueraded flow";
        Packet want = routed_to_lan(syn);
        want.src = host;
        want.sport = port;
        expect(out, kTcRedirect, want);

        Packet synack = from_lan(e1.is_v4() ? L3::IPv4 : L3::IPv6);
        synack.dst = host;
        synack.sport = 80;
        synack.dport = port;
        synack.proto = kTcp;
        synack.tcp_flags = kSyn | kAck;
        Packet back = routed(synack, kH1, kC1);
        back.dst = e1;
        back.dport = 40000;
        expect(run_xdp(up0, synack.bytes()), XDP_REDIRECT, back);
        expect(run_tc(Program::TcUplink, up0, synack.bytes()), kTcRedirect, back);
    }
}

// Once a masqueraded flow is assured, its replies are delivered by the route its reply
// entry caches (lib/flow_cache.h), translated as the full path translates them.
TEST_F(MasqTest, AnAssuredFlowsRepliesAreDeliveredByTheCachedRoute)
{
    const IpAddr e1 = IpAddr::parse("10.0.0.1");
    const Packet out = to_lan(kC1, kH1, e1, 40000, 53, kUdp);
    const std::uint16_t port = sent_by_e1(out);
    ASSERT_NE(port, 0);
    const Packet reply = lan_answer(port);
    Packet back = routed(reply, kH1, kC1);
    back.dst = e1;
    back.dport = 40000;
    expect(run_xdp(up0, reply.bytes()), XDP_REDIRECT, back);
    run_tc(Program::TcEndpoint, h1, out.bytes()); // the container's next datagram assures the flow
    const fp_ct_key rkey = ct_key(from_lan().src, 53, kHost4, port, kUdp, FP_CT_REPLY);
    ASSERT_TRUE(maps->ct.lookup(rkey)) << "not assured";
    EXPECT_EQ(maps->ct.lookup(rkey)->route.out_ifindex, 0u);
    expect(run_xdp(up0, reply.bytes()), XDP_REDIRECT, back);
    EXPECT_EQ(maps->ct.lookup(rkey)->route.out_ifindex, h1.ifindex);
    expect(run_xdp(up0, reply.bytes()), XDP_REDIRECT, back);
    expect(run_tc(Program::TcUplink, up0, reply.bytes()), kTcRedirect, back);
}

// Once a masqueraded flow is assured, the container's own packets take the sender's fast
// path (lib/flow_cache_sent.h): the first resolves E1's checks into the original entry,
// the next ones read them. With E1's entry taken out behind the datapath's back, they still
// leave translated and routed by the host's route, looked up per packet; once the
// generation moves, the full path has them (E1 gone: a spoof).
TEST_F(MasqTest, AnAssuredFlowsPacketsAreSentByTheCachedChecks)
{
    const IpAddr e1 = IpAddr::parse("10.0.0.1");
    const Packet out = to_lan(kC1, kH1, e1, 40000, 53, kUdp);
    const std::uint16_t port = sent_by_e1(out);
    ASSERT_NE(port, 0);
    run_xdp(up0, lan_answer(port).bytes());
    run_tc(Program::TcEndpoint, h1, out.bytes()); // the container's next datagram assures the flow
    const fp_ct_key okey = ct_key(e1, 40000, from_lan().src, 53, kUdp, FP_CT_ORIGINAL);
    ASSERT_TRUE(maps->ct.lookup(okey)) << "not assured";
    Packet want = routed_to_lan(out);
    want.src = kHost4;
    want.sport = port;
    expect(run_tc(Program::TcEndpoint, h1, out.bytes()), kTcRedirect, want);
    const fp_ct_entry e = *maps->ct.lookup(okey);
    EXPECT_EQ(e.route.in_ifindex, h1.ifindex);
    EXPECT_EQ(MacAddr::from(e.route.from_mac), kC1);
    EXPECT_EQ(e.route.out_ifindex, 0u);

    maps->endpoints.erase(endpoint_key(e1));
    expect(run_tc(Program::TcEndpoint, h1, out.bytes()), kTcRedirect, want);
    EXPECT_EQ(maps->ct.lookup(okey)->packets, e.packets + 1);
    advance_generation(*maps);
    EXPECT_EQ(run_tc(Program::TcEndpoint, h1, out.bytes()).retval, kTcShot);
    EXPECT_EQ(reason_count(FP_HOOK_TC_ENDPOINT, FP_DROP_SPOOF_IP), 1u);
}

// Two containers' flows from the same port to the same LAN server get two host ports; a
// range of one port gives that destination one flow, the next new one is dropped and
// counted while the first goes on, and another destination still gets the port.
TEST_F(MasqTest, APortIsOneFlowsPerDestinationAndAFullRangeDropsNewFlowsOnly)
{
    const IpAddr e1 = IpAddr::parse("10.0.0.1"), e2 = IpAddr::parse("10.0.0.2");
    run_tc(Program::TcEndpoint, h1, to_lan(kC1, kH1, e1, 40000, 53, kUdp).bytes());
    run_tc(Program::TcEndpoint, h2, to_lan(kC2, kH2, e2, 40000, 53, kUdp).bytes());
    const std::uint16_t p1 = masq_port(e1, 40000, from_lan().src, 53, kUdp);
    const std::uint16_t p2 = masq_port(e2, 40000, from_lan().src, 53, kUdp);
    EXPECT_NE(p1, 0);
    EXPECT_NE(p2, 0);
    EXPECT_NE(p1, p2);

    ports(61000, 61000);
    const Packet first = to_lan(kC1, kH1, e1, 41000, 80);
    EXPECT_EQ(run_tc(Program::TcEndpoint, h1, first.bytes()).retval, kTcRedirect);
    EXPECT_EQ(masq_port(e1, 41000, first.dst, 80, kTcp), 61000);
    const std::uint64_t dropped = reason_count(FP_HOOK_TC_ENDPOINT, FP_DROP_MASQ_PORTS);
    EXPECT_EQ(run_tc(Program::TcEndpoint, h2, to_lan(kC2, kH2, e2, 41000, 80).bytes()).retval, kTcShot);
    EXPECT_EQ(reason_count(FP_HOOK_TC_ENDPOINT, FP_DROP_MASQ_PORTS), dropped + 1);
    EXPECT_EQ(run_tc(Program::TcEndpoint, h1, to_lan(kC1, kH1, e1, 41000, 80, kTcp, kAck).bytes()).retval, kTcRedirect)
        << "the established flow goes on";
    EXPECT_EQ(run_tc(Program::TcEndpoint, h2, to_lan(kC2, kH2, e2, 41000, 81).bytes()).retval, kTcRedirect);
    EXPECT_EQ(masq_port(e2, 41000, first.dst, 81, kTcp), 61000);
}

// What is no new masqueraded flow goes to the stack as it is, with no entry: a
// destination the rule excepts, one in a masqueraded subnet, a TCP packet that starts
// no flow (an ACK of a connection flatpath never saw).
TEST_F(MasqTest, WhatStartsNoMasqueradedFlowIsLeftAlone)
{
    maps->masq_except.upsert(fp_masq_except_key{32 + 96 + 24, kRule4, IpAddr::parse("10.99.0.0").raw()}, 1);
    const IpAddr e1 = IpAddr::parse("10.0.0.1");
    const Packet excepted = to_lan(kC1, kH1, e1, 40000, 80);
    Packet own_subnet = excepted;
    own_subnet.dst = IpAddr::parse("10.0.0.9");
    const Packet stray_ack = to_lan(kC1, kH1, IpAddr::parse("fd00::1"), 40000, 80, kTcp, kAck);
    for (const Packet *p : {&excepted, static_cast<const Packet *>(&own_subnet), &stray_ack}) {
        SCOPED_TRACE(p->dst.str());
        expect(run_tc(Program::TcEndpoint, h1, p->bytes()), kTcOk, *p);
    }
    EXPECT_TRUE(maps->ct.entries().empty());
    EXPECT_TRUE(maps->ct_new.entries().empty());
}

// The LAN's port unreachable about a masqueraded datagram (sent to the host's address,
// quoting what left the host) reaches the container, quoting what it sent.
TEST_F(MasqTest, TheLansIcmpErrorAboutAMasqueradedDatagramReachesTheContainer)
{
    const IpAddr e1 = IpAddr::parse("10.0.0.1");
    const Packet sent = to_lan(kC1, kH1, e1, 40000, 53, kUdp);
    const std::uint16_t port = sent_by_e1(sent);
    ASSERT_NE(port, 0);
    Packet left = routed_to_lan(sent);
    left.src = kHost4;
    left.sport = port;
    Packet err = from_lan();
    err.dst = kHost4;
    err.proto = 1;
    err.icmp_quote = left.quoted();
    Packet want = routed(err, kH1, kC1);
    want.dst = e1;
    want.icmp_quote = translated_quote(left, routed_to_lan(sent));
    expect(run_xdp(up0, err.bytes()), XDP_REDIRECT, want);
}

// A ping is masqueraded by its identifier (as its port): the request leaves from the host
// with an identifier of the range, and a router's time exceeded about it (an ICMP
// traceroute) reaches the container quoting its own request, IPv4 and IPv6.
TEST_F(MasqTest, ATimeExceededAboutAMasqueradedPingReachesTheContainer)
{
    for (const IpAddr &e1 : {IpAddr::parse("10.0.0.1"), IpAddr::parse("fd00::1")}) {
        SCOPED_TRACE(e1.str());
        const bool v4 = e1.is_v4();
        const IpAddr &host = v4 ? kHost4 : kHost6;
        Packet ping = to_lan(kC1, kH1, e1, 0, 0, v4 ? 1 : 58);
        ping.icmp_type = v4 ? 8 : 128;
        ping.icmp_code = 0;
        ping.icmp_rest = 0x12340001; // identifier 0x1234, sequence 1
        const RunResult out = run_tc(Program::TcEndpoint, h1, ping.bytes());
        const std::uint16_t id = masq_port(e1, 0x1234, ping.dst, 0, ping.proto);
        ASSERT_GE(id, FP_MASQ_PORT_MIN_DEFAULT) << "no masqueraded ping";
        Packet left = routed_to_lan(ping);
        left.src = host;
        left.icmp_rest = static_cast<std::uint32_t>(id) << 16 | 1;
        expect(out, kTcRedirect, left);

        Packet err = from_lan(v4 ? L3::IPv4 : L3::IPv6);
        err.src = IpAddr::parse(v4 ? "10.99.0.254" : "fd99::fe"); // a router on the way
        err.dst = host;
        err.proto = ping.proto;
        err.icmp_type = v4 ? 11 : 3; // time exceeded
        err.icmp_code = 0;
        err.icmp_quote = left.quoted();
        Packet want = routed(err, kH1, kC1);
        want.dst = e1;
        want.icmp_quote = translated_quote(left, routed_to_lan(ping));
        expect(run_xdp(up0, err.bytes()), XDP_REDIRECT, want);
    }
}

// A LAN that routes to the containers sends E1 a datagram directly (no translation) to
// a closed port: E1's port unreachable, and its answer on an open one, leave as E1 sent
// them, to the stack, untranslated (the marker that tells answers from new flows holds
// no addresses to translate to).
TEST_F(MasqTest, AnswersToADirectDatagramAreNotTranslated)
{
    for (const IpAddr &e1 : {IpAddr::parse("10.0.0.1"), IpAddr::parse("fd00::1")}) {
        SCOPED_TRACE(e1.str());
        Packet in = from_lan(e1.is_v4() ? L3::IPv4 : L3::IPv6);
        in.dst = e1;
        in.dport = 9999;
        expect(run_xdp(up0, in.bytes()), XDP_REDIRECT, routed(in, kH1, kC1));
        Packet err = sent_by(kC1, kH1, e1, 0, in.src, 0);
        err.proto = e1.is_v4() ? 1 : 58;
        err.icmp_type = e1.is_v4() ? 3 : 1;
        err.icmp_code = e1.is_v4() ? 3 : 4;
        err.icmp_quote = routed(in, kH1, kC1).quoted();
        expect(run_tc(Program::TcEndpoint, h1, err.bytes()), kTcOk, err);
        const Packet answer = sent_by(kC1, kH1, e1, 9999, in.src, in.sport, kUdp);
        expect(run_tc(Program::TcEndpoint, h1, answer.bytes()), kTcOk, answer);
    }
    for (const auto &[key, e] : maps->ct_new.entries())
        EXPECT_NE(e.kind, FP_CT_KIND_MASQ) << "a direct datagram's answer was masqueraded";
}

// A masqueraded packet larger than its route's MTU (up0 at 1400 here): one that must not
// be fragmented (IPv4 with DF, IPv6) goes to the stack as the container sent it (pass_mtu:
// it answers the container, no flow is made); IPv4 without DF is dropped (drop_frag_needed:
// the stack would fragment it and send the pieces untranslated); one of the MTU leaves
// masqueraded.
TEST_F(MasqTest, APacketTooBigForItsRouteIsAnsweredOrDroppedNeverSentUntranslated)
{
    const ScopedMtu up0_mtu("up0", 1400);
    for (const IpAddr &e1 : {IpAddr::parse("10.0.0.1"), IpAddr::parse("fd00::1")}) {
        SCOPED_TRACE(e1.str());
        const std::size_t headers = (e1.is_v4() ? 20 : 40) + 8;
        Packet big = to_lan(kC1, kH1, e1, 40000, 53, kUdp);
        big.payload = 1420 - headers;
        const std::uint64_t answered = reason_count(FP_HOOK_TC_ENDPOINT, FP_PASS_MTU);
        expect(run_tc(Program::TcEndpoint, h1, big.bytes()), kTcOk, big);
        EXPECT_EQ(reason_count(FP_HOOK_TC_ENDPOINT, FP_PASS_MTU), answered + 1);
        EXPECT_EQ(masq_port(e1, 40000, big.dst, 53, kUdp), 0) << "a flow was made for it";

        if (e1.is_v4()) {
            Packet no_df = big;
            no_df.ipv4_frag = 0;
            const std::uint64_t dropped = reason_count(FP_HOOK_TC_ENDPOINT, FP_DROP_FRAG_NEEDED);
            EXPECT_EQ(run_tc(Program::TcEndpoint, h1, no_df.bytes()).retval, kTcShot);
            EXPECT_EQ(reason_count(FP_HOOK_TC_ENDPOINT, FP_DROP_FRAG_NEEDED), dropped + 1);
        }

        Packet fits = big;
        fits.payload = 1400 - headers;
        const RunResult out = run_tc(Program::TcEndpoint, h1, fits.bytes());
        const std::uint16_t port = masq_port(e1, 40000, fits.dst, 53, kUdp);
        ASSERT_GE(port, FP_MASQ_PORT_MIN_DEFAULT) << "no masqueraded flow";
        Packet want = routed_to_lan(fits);
        want.src = e1.is_v4() ? kHost4 : kHost6;
        want.sport = port;
        expect(out, kTcRedirect, want);
        // The flow known now, a larger packet of it is answered the same way.
        expect(run_tc(Program::TcEndpoint, h1, big.bytes()), kTcOk, big);
    }
}

} // namespace
} // namespace fp::test

// Per-endpoint policy in the production programs, written with the product's own
// Policies table: what an endpoint sends is checked at its hook, what the fast path
// delivers at the delivering hook's exit (XDP and tc), what the stack sends it on its tc
// egress (to_container); flows are decided once and their replies pass; deny rules win;
// a change decides existing flows again; a denial is counted as drop_policy and traced.
//
// Map setup: prog_fixture.hpp's world (E1 10.0.0.1 / fd00::1 on h1 in slot 1, E2 .2 on h2
// in slot 2, uplink up0 with the host's 10.99.0.1 and the LAN client .5 behind it).
#include <linux/pkt_cls.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>

#include "config_counts.hpp"
#include "conntrack.hpp"
#include "policy.hpp"
#include "prog_fixture.hpp"
#include "test_world.hpp"
#include "trace_session.hpp"

namespace fp::test {
namespace {

constexpr std::uint8_t kTcp = 6, kUdp = 17, kIcmp = 1, kIcmp6 = 58, kSyn = 0x02, kAck = 0x10;
constexpr std::uint32_t kShot = TC_ACT_SHOT, kRedirect = TC_ACT_REDIRECT, kOk = TC_ACT_OK;
const IpAddr kE1 = IpAddr::parse("10.0.0.1");
const IpAddr kE2 = IpAddr::parse("10.0.0.2");
const IpAddr kE1v6 = IpAddr::parse("fd00::1");
const IpAddr kE2v6 = IpAddr::parse("fd00::2");
const IpAddr kClient = IpAddr::parse("10.99.0.5");

PolicyRule rule(const char *item, fp_policy_dir dir, fp_policy_action action = FP_POLICY_ALLOW)
{
    return parse_policy_item(item, dir, action);
}

// An echo request from src to dst with identifier id.
Packet ping(const MacAddr &mac, const MacAddr &gw, const IpAddr &src, const IpAddr &dst, std::uint16_t id)
{
    Packet p = sent_by(mac, gw, src, 0, dst, 0, src.is_v4() ? kIcmp : kIcmp6, 0);
    p.icmp_type = src.is_v4() ? 8 : 128;
    p.icmp_code = 0;
    p.icmp_rest = static_cast<std::uint32_t>(id) << 16 | 1;
    return p;
}

class PolicyTest : public ProgFixture {
protected:
    void SetUp() override
    {
        ProgFixture::SetUp();
        if (HasFatalFailure())
            return;
        add_two_endpoints_and_uplink();
        add_host_addresses();
        char dir[] = "/tmp/fp-policy-test-XXXXXX"; // the datapath lock's directory
        ASSERT_NE(::mkdtemp(dir), nullptr);
        lock_dir = dir;
        root = std::make_unique<PinRoot>(lock_dir);
        policies = std::make_unique<Policies>(*root, *maps);
    }
    void TearDown() override
    {
        policies.reset();
        if (!lock_dir.empty())
            std::filesystem::remove_all(lock_dir);
    }

    // E1 may start (dir out) or accept (in) only what `allowed` lists: that direction
    // denies by default.
    void e1_allows(fp_policy_dir dir, std::initializer_list<const char *> allowed)
    {
        EndpointPolicy p;
        p.defaults[dir] = FP_POLICY_DENY;
        for (const char *a : allowed)
            p.rules.push_back(rule(a, dir));
        policies->set(h1.ifindex, p);
    }
    void e1_out_allows(std::initializer_list<const char *> allowed) { e1_allows(FP_POLICY_OUT, allowed); }
    void e1_in_allows(std::initializer_list<const char *> allowed) { e1_allows(FP_POLICY_IN, allowed); }
    std::uint32_t from_e1(const Packet &p) { return run_tc(Program::TcEndpoint, h1, p.bytes()).retval; }
    std::uint32_t from_e2(const Packet &p) { return run_tc(Program::TcEndpoint, h2, p.bytes()).retval; }
    std::uint64_t denied(fp_hook hook) { return reason_count(hook, FP_DROP_POLICY); }

    std::string lock_dir;
    std::unique_ptr<PinRoot> root;
    std::unique_ptr<Policies> policies;
};

// Without a policy nothing is checked or tracked; a policy on another endpoint changes
// nothing for this one.
TEST_F(PolicyTest, AnEndpointWithoutAPolicyIsNotChecked)
{
    const std::uint64_t denied_before = denied(FP_HOOK_TC_ENDPOINT);
    EXPECT_EQ(from_e2(sent_by(kC2, kH2, kE2, 40000, kE1, 5001, kUdp)), kRedirect);
    EndpointPolicy other; // E1's: deny everything in and out
    other.defaults[FP_POLICY_IN] = other.defaults[FP_POLICY_OUT] = FP_POLICY_DENY;
    policies->set(h1.ifindex, other);
    EXPECT_EQ(from_e2(sent_by(kC2, kH2, kE2, 40000, kClient, 5001, kUdp)), kOk);
    EXPECT_TRUE(maps->policy_flows.entries().empty());
    EXPECT_EQ(denied(FP_HOOK_TC_ENDPOINT), denied_before);
}

// Default deny out with an allow-list: the listed TCP port, UDP port and ping (IPv4 and
// IPv6 where listed) pass; another port, another address, another family and an unlisted
// ping are dropped as drop_policy, never delivered (E2's counters see only the allowed).
TEST_F(PolicyTest, AnAllowListedEndpointReachesOnlyWhatItMay)
{
    e1_out_allows({"10.0.0.2:80/tcp", "10.0.0.2:5001/udp", "10.0.0.2:icmp", "[fd00::2]:80/tcp"});
    const std::uint64_t denied_before = denied(FP_HOOK_TC_ENDPOINT), to_e2 = ep_counters(2).to_packets;
    EXPECT_EQ(from_e1(sent_by(kC1, kH1, kE1, 40000, kE2, 80, kTcp, kSyn)), kRedirect) << "tcp 80";
    EXPECT_EQ(from_e1(sent_by(kC1, kH1, kE1, 40000, kE2, 5001, kUdp)), kRedirect) << "udp 5001";
    EXPECT_EQ(from_e1(ping(kC1, kH1, kE1, kE2, 7)), kRedirect) << "ping";
    EXPECT_EQ(from_e1(sent_by(kC1, kH1, kE1v6, 40000, kE2v6, 80, kTcp, kSyn)), kRedirect) << "tcp 80 v6";
    const std::uint64_t delivered = ep_counters(2).to_packets;
    EXPECT_EQ(delivered - to_e2, 4u);

    EXPECT_EQ(from_e1(sent_by(kC1, kH1, kE1, 40000, kE2, 22, kTcp, kSyn)), kShot) << "tcp 22";
    EXPECT_EQ(from_e1(sent_by(kC1, kH1, kE1, 40000, kE2, 5002, kUdp)), kShot) << "udp 5002";
    EXPECT_EQ(from_e1(sent_by(kC1, kH1, kE1v6, 40000, kE2v6, 5001, kUdp)), kShot) << "udp 5001 v6: not listed";
    EXPECT_EQ(from_e1(ping(kC1, kH1, kE1v6, kE2v6, 7)), kShot) << "ping v6: not listed";
    EXPECT_EQ(from_e1(sent_by(kC1, kH1, kE1, 40000, kClient, 80, kTcp, kSyn)), kShot) << "another address";
    EXPECT_EQ(denied(FP_HOOK_TC_ENDPOINT) - denied_before, 5u);
    EXPECT_EQ(ep_counters(2).to_packets, delivered);
}

// A deny rule wins over an allow rule that also matches, in whichever order they were
// added; an allow rule over the default.
TEST_F(PolicyTest, DenyRulesWinOverAllowRules)
{
    EndpointPolicy p;
    p.defaults[FP_POLICY_OUT] = FP_POLICY_DENY;
    p.rules = {rule("10.0.0.2:5001/udp", FP_POLICY_OUT, FP_POLICY_DENY), rule("10.0.0.0/24", FP_POLICY_OUT)};
    policies->set(h1.ifindex, p);
    EXPECT_EQ(from_e1(sent_by(kC1, kH1, kE1, 40000, kE2, 5001, kUdp)), kShot);
    EXPECT_EQ(from_e1(sent_by(kC1, kH1, kE1, 40000, kE2, 5002, kUdp)), kRedirect);
}

// ::/0 is every IPv6 address and no IPv4 one (which the datapath holds IPv4-mapped, inside
// ::/0 by their bits); 0.0.0.0/0 the other way round; "*" both.
TEST_F(PolicyTest, APrefixHoldsOnlyItsOwnFamily)
{
    e1_out_allows({"[::/0]:5001/udp"});
    EXPECT_EQ(from_e1(sent_by(kC1, kH1, kE1v6, 40000, kE2v6, 5001, kUdp)), kRedirect);
    EXPECT_EQ(from_e1(sent_by(kC1, kH1, kE1, 40000, kE2, 5001, kUdp)), kShot);
    e1_out_allows({"0.0.0.0/0:5001/udp"});
    EXPECT_EQ(from_e1(sent_by(kC1, kH1, kE1, 40001, kE2, 5001, kUdp)), kRedirect);
    EXPECT_EQ(from_e1(sent_by(kC1, kH1, kE1v6, 40001, kE2v6, 5001, kUdp)), kShot);
    e1_out_allows({"*:5001/udp"});
    EXPECT_EQ(from_e1(sent_by(kC1, kH1, kE1, 40002, kE2, 5001, kUdp)), kRedirect);
    EXPECT_EQ(from_e1(sent_by(kC1, kH1, kE1v6, 40002, kE2v6, 5001, kUdp)), kRedirect);
}

// Stateful: the answers of a flow E1 was allowed to start reach it although it accepts no
// flow, both delivered by the fast path (E2's SYN-ACK) and sent by the host stack
// (to_container); a flow E2 starts to E1 is dropped at either.
TEST_F(PolicyTest, RepliesOfAnAllowedFlowPassUnsolicitedPacketsDoNot)
{
    EndpointPolicy p;
    p.defaults[FP_POLICY_IN] = p.defaults[FP_POLICY_OUT] = FP_POLICY_DENY;
    p.rules = {rule("10.0.0.2:80/tcp", FP_POLICY_OUT), rule("10.99.0.5:53/udp", FP_POLICY_OUT)};
    policies->set(h1.ifindex, p);
    const std::uint64_t denied_before = denied(FP_HOOK_TC_ENDPOINT), to_e1 = ep_counters(1).to_packets;
    ASSERT_EQ(from_e1(sent_by(kC1, kH1, kE1, 40000, kE2, 80, kTcp, kSyn)), kRedirect);
    EXPECT_EQ(from_e2(sent_by(kC2, kH2, kE2, 80, kE1, 40000, kTcp, kSyn | kAck)), kRedirect) << "the SYN-ACK";
    EXPECT_EQ(ep_counters(1).to_packets - to_e1, 1u);
    EXPECT_EQ(from_e2(sent_by(kC2, kH2, kE2, 40001, kE1, 22, kTcp, kSyn)), kShot) << "E2 starting a flow to E1";
    EXPECT_EQ(ep_counters(1).to_packets - to_e1, 1u) << "a denied delivery is not counted as one";

    // The host stack's packets to E1: a DNS answer (E1 asked the LAN host) and a query it
    // did not ask for.
    ASSERT_EQ(from_e1(sent_by(kC1, kH1, kE1, 41000, kClient, 53, kUdp)), kOk) << "to the stack";
    const Packet answer = sent_by(kH1, kC1, kClient, 53, kE1, 41000, kUdp);
    EXPECT_EQ(run_tc(Program::ToEndpoint, h1, answer.bytes()).retval, kOk);
    const Packet unasked = sent_by(kH1, kC1, kClient, 53, kE1, 41001, kUdp);
    EXPECT_EQ(run_tc(Program::ToEndpoint, h1, unasked.bytes()).retval, kShot);
    EXPECT_EQ(denied(FP_HOOK_TC_ENDPOINT) - denied_before, 2u);
}

// In default deny with an allow rule: from the LAN under XDP, only the allowed port and
// source reach E1; a published port's flow is checked as it arrives, translated (the rule
// names the container's own port 80, not the published 8080).
TEST_F(PolicyTest, WhatTheUplinkDeliversIsCheckedAsItArrives)
{
    maps->dnat.upsert(fp_dnat_key{IpAddr::parse("10.99.0.1").raw(), htons(8080), kTcp, 0},
                      fp_dnat_backend{kE1.raw(), htons(80), {}});
    maps->backends.upsert(fp_backend_key{kE1.raw(), htons(80), kTcp, 0}, 1);
    adjust_config(*maps, [](fp_config &c) { c.dnat_entries = 1; });
    e1_in_allows({"10.99.0.0/24:80/tcp"});
    const std::uint64_t denied_before = denied(FP_HOOK_XDP_UPLINK), to_e1 = ep_counters(1).to_packets;

    Packet web = from_lan();
    web.proto = kTcp;
    web.dport = 80;
    EXPECT_EQ(run_xdp(up0, web.bytes()).retval, static_cast<std::uint32_t>(XDP_REDIRECT));
    Packet ssh = web;
    ssh.dport = 22;
    EXPECT_EQ(run_xdp(up0, ssh.bytes()).retval, static_cast<std::uint32_t>(XDP_DROP));
    Packet published = web;
    published.sport = 40500;
    published.dst = IpAddr::parse("10.99.0.1");
    published.dport = 8080;
    EXPECT_EQ(run_xdp(up0, published.bytes()).retval, static_cast<std::uint32_t>(XDP_REDIRECT));
    Packet elsewhere = web;
    elsewhere.src = IpAddr::parse("10.98.0.5");
    EXPECT_EQ(run_xdp(up0, elsewhere.bytes()).retval, static_cast<std::uint32_t>(XDP_DROP));
    EXPECT_EQ(denied(FP_HOOK_XDP_UPLINK) - denied_before, 2u);
    EXPECT_EQ(ep_counters(1).to_packets - to_e1, 2u);
}

// A change applies to new flows at once, and to existing ones at their next packet, each
// way: a flow that the new policy would not allow is dropped, its entry gone; one it
// still allows goes on.
TEST_F(PolicyTest, AChangeAppliesToExistingFlowsAtTheirNextPacket)
{
    e1_out_allows({"10.0.0.2:5001/udp", "10.0.0.2:5002/udp"});
    const Packet a = sent_by(kC1, kH1, kE1, 40000, kE2, 5001, kUdp);
    const Packet b = sent_by(kC1, kH1, kE1, 40000, kE2, 5002, kUdp);
    ASSERT_EQ(from_e1(a), kRedirect);
    ASSERT_EQ(from_e1(b), kRedirect);
    policies->remove_rule(h1.ifindex, rule("10.0.0.2:5001/udp", FP_POLICY_OUT));
    const Packet a_reply = sent_by(kC2, kH2, kE2, 5001, kE1, 40000, kUdp);
    EXPECT_EQ(from_e2(a_reply), kShot) << "the removed rule's flow, its reply";
    EXPECT_EQ(from_e1(a), kShot) << "and its next packet";
    EXPECT_EQ(from_e1(b), kRedirect) << "the kept rule's flow";
    EXPECT_EQ(from_e2(sent_by(kC2, kH2, kE2, 5002, kE1, 40000, kUdp)), kRedirect);
    policies->add_rule(h1.ifindex, rule("10.0.0.2:5001/udp", FP_POLICY_OUT));
    EXPECT_EQ(from_e1(a), kRedirect) << "allowed again: a new flow";
    ASSERT_TRUE(policies->clear(h1.ifindex));
    EXPECT_TRUE(maps->policy_flows.entries().empty()) << "the policy's flows go with it";
    EXPECT_EQ(from_e1(sent_by(kC1, kH1, kE1, 40000, kE2, 22, kTcp, kSyn)), kRedirect) << "no policy: not checked";
}

// A tun endpoint's egress (to_tun) sees the stack's packets without an Ethernet header:
// its policy is checked all the same.
TEST_F(PolicyTest, WhatTheStackSendsATunIsChecked)
{
    add_endpoint(tun0, 3, FP_EP_TUN, {"10.0.0.3"});
    EndpointPolicy p;
    p.defaults[FP_POLICY_IN] = FP_POLICY_DENY;
    p.rules = {rule("*:5001/udp", FP_POLICY_IN)};
    policies->set(tun0.ifindex, p);
    const auto ip_packet = [](std::uint16_t dport) { // as an L3 device carries it: no Ethernet header
        Bytes b = sent_by(kH1, kC1, kClient, 40000, IpAddr::parse("10.0.0.3"), dport, kUdp).bytes();
        b.erase(b.begin(), b.begin() + 14);
        return b;
    };
    EXPECT_EQ(run_tc(Program::ToTun, tun0, ip_packet(5001)).retval, kOk);
    EXPECT_EQ(run_tc(Program::ToTun, tun0, ip_packet(5002)).retval, kShot);
}

// An allowed TCP flow lives 6 hours idle; a FIN gives it 10 seconds, and its last ACKs do
// not give it more (a UDP flow's packets keep pushing it on).
TEST_F(PolicyTest, AClosedTcpFlowIsForgottenSoon)
{
    e1_out_allows({"10.0.0.2:80/tcp"});
    const auto seconds_left = [&] {
        const auto flows = maps->policy_flows.entries();
        return flows.size() == 1 ? static_cast<double>(flows[0].second.expires_ns - monotonic_ns()) / 1e9 : -1.0;
    };
    ASSERT_EQ(from_e1(sent_by(kC1, kH1, kE1, 40000, kE2, 80, kTcp, kSyn)), kRedirect);
    EXPECT_GT(seconds_left(), 6 * 3600 - 60);
    ASSERT_EQ(from_e1(sent_by(kC1, kH1, kE1, 40000, kE2, 80, kTcp, 0x01 | kAck)), kRedirect); // FIN
    EXPECT_LE(seconds_left(), 10.5);
    ASSERT_EQ(from_e2(sent_by(kC2, kH2, kE2, 80, kE1, 40000, kTcp, kAck)), kRedirect);
    ASSERT_EQ(from_e1(sent_by(kC1, kH1, kE1, 40000, kE2, 80, kTcp, kAck)), kRedirect);
    EXPECT_LE(seconds_left(), 10.5) << "the last ACKs do not keep a closed flow";
}

// IPv6 neighbour discovery passes whatever the policy says (IPv6 needs it); an ICMP
// error passes when it is about a flow the policy allowed, not otherwise.
TEST_F(PolicyTest, NeighbourDiscoveryAndRelatedIcmpErrorsPass)
{
    e1_in_allows({});
    Packet ns = sent_by(kH1, kC1, IpAddr::parse("fd00::ff"), 0, kE1v6, 0, kIcmp6, 0);
    ns.icmp_type = 135;
    ns.icmp_code = 0;
    EXPECT_EQ(run_tc(Program::ToEndpoint, h1, ns.bytes()).retval, kOk) << "neighbour solicitation";

    const Packet out = sent_by(kC1, kH1, kE1, 41000, kClient, 53, kUdp);
    ASSERT_EQ(from_e1(out), kOk);
    Packet unreachable = sent_by(kH1, kC1, kClient, 0, kE1, 0, kIcmp, 0);
    unreachable.icmp_quote = out.quoted();
    EXPECT_EQ(run_tc(Program::ToEndpoint, h1, unreachable.bytes()).retval, kOk) << "about E1's flow";
    Packet stray = unreachable;
    Packet other = out;
    other.sport = 41999;
    stray.icmp_quote = other.quoted();
    EXPECT_EQ(run_tc(Program::ToEndpoint, h1, stray.bytes()).retval, kShot) << "about no flow of E1's";
}

// While tracing: a new allowed flow is a policy-allow event, a denied packet a drop with
// the reason drop_policy; the flow's next packet makes no new event.
TEST_F(PolicyTest, VerdictsAreTraced)
{
    e1_out_allows({"10.0.0.2:5001/udp"});
    TraceFilter f;
    f.kinds = 1u << FP_TRACE_POLICY_ALLOW | 1u << FP_TRACE_DROP;
    TraceSession s(*maps, MapFd::dup_of(progs->map_fd(FP_MAP_TRACE_RING)), f);
    from_e1(sent_by(kC1, kH1, kE1, 40000, kE2, 5001, kUdp));
    from_e1(sent_by(kC1, kH1, kE1, 40000, kE2, 5001, kUdp));
    from_e1(sent_by(kC1, kH1, kE1, 40000, kE2, 5003, kUdp));
    std::vector<fp_trace_event> got;
    s.poll(std::chrono::milliseconds(0), [&](const fp_trace_event &e) {
        got.push_back(e);
        return true;
    });
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].kind, FP_TRACE_POLICY_ALLOW);
    EXPECT_EQ(IpAddr::from_raw(got[0].before.daddr), kE2);
    EXPECT_EQ(ntohs(got[0].before.dport), 5001);
    EXPECT_EQ(got[0].ifindex, h1.ifindex);
    EXPECT_EQ(got[1].kind, FP_TRACE_DROP);
    EXPECT_EQ(got[1].reason, FP_DROP_POLICY);
    EXPECT_EQ(ntohs(got[1].before.dport), 5003);
}

// A published port's new flow to a backend with a policy: the flow-new event the hook noted
// keeps the flow as the client sent it (to the published port), and the policy's verdict on
// the translated packet is an event of its own.
TEST_F(PolicyTest, APublishedFlowsEventSurvivesThePolicyVerdict)
{
    const IpAddr host = IpAddr::parse("10.99.0.1");
    maps->dnat.upsert(fp_dnat_key{host.raw(), htons(8080), kTcp, 0}, fp_dnat_backend{kE1.raw(), htons(80), {}});
    maps->backends.upsert(fp_backend_key{kE1.raw(), htons(80), kTcp, 0}, 1);
    adjust_config(*maps, [](fp_config &c) { c.dnat_entries = 1; });
    e1_in_allows({"*:80/tcp"});
    TraceFilter f;
    f.kinds = 1u << FP_TRACE_POLICY_ALLOW | 1u << FP_TRACE_FLOW_NEW;
    TraceSession s(*maps, MapFd::dup_of(progs->map_fd(FP_MAP_TRACE_RING)), f);
    Packet syn = from_lan();
    syn.proto = kTcp;
    syn.dst = host;
    syn.dport = 8080;
    ASSERT_EQ(run_xdp(up0, syn.bytes()).retval, static_cast<std::uint32_t>(XDP_REDIRECT));
    std::vector<fp_trace_event> got;
    s.poll(std::chrono::milliseconds(0), [&](const fp_trace_event &e) {
        got.push_back(e);
        return true;
    });
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].kind, FP_TRACE_POLICY_ALLOW);
    EXPECT_EQ(IpAddr::from_raw(got[0].before.daddr), kE1);
    EXPECT_EQ(ntohs(got[0].before.dport), 80);
    EXPECT_EQ(got[1].kind, FP_TRACE_FLOW_NEW);
    EXPECT_EQ(IpAddr::from_raw(got[1].before.daddr), host) << "the flow as the client sent it";
    EXPECT_EQ(ntohs(got[1].before.dport), 8080);
    EXPECT_EQ(IpAddr::from_raw(got[1].after.daddr), kE1);
}

} // namespace
} // namespace fp::test

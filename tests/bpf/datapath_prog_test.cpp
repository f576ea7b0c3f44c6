// BPF program tests: each row is {description, input packet, map setup,
// expected verdict, expected output packet or counter}. They run the
// production programs with BPF_PROG_TEST_RUN on crafted packets.
//
// Map setup shared by every row: endpoint E1 (10.0.0.1, fd00::1) behind veth h1
// in slot 1, endpoint E2 (10.0.0.2, fd00::2) behind h2 in slot 2, uplink up0.
#include <linux/pkt_cls.h>

#include <functional>

#include "endpoint_prefixes.hpp"
#include "prog_fixture.hpp"
#include "test_world.hpp"

namespace fp::test {
namespace {

Bytes truncated(Bytes b, std::size_t len)
{
    b.resize(len);
    return b;
}

// E1's IPv4 packet with its total length set to len (header checksum kept right).
Bytes ipv4_total_length(std::uint16_t len)
{
    Bytes b = from_e1().bytes();
    b[16] = static_cast<std::uint8_t>(len >> 8);
    b[17] = static_cast<std::uint8_t>(len);
    refresh_ipv4_checksum(b);
    return b;
}

// p with four bytes of IPv4 options (NOP NOP NOP EOL) after its header.
enum class DevId { H1, UP0 };
enum class Hook { TcEndpoint, TcUplink, Xdp };

struct Case {
    const char *name;
    Hook hook;
    DevId dev;
    std::function<Bytes()> input;
    std::uint32_t verdict;
    // Expected output: the routed packet, or empty to expect the input unchanged.
    std::function<Bytes()> output;
    std::optional<fp_reason> reason;    // counted once, for this hook
    std::optional<std::uint32_t> to_slot; // delivered: counted once to this slot
};

constexpr std::uint32_t kTcOk = TC_ACT_OK, kTcShot = TC_ACT_SHOT, kTcRedirect = TC_ACT_REDIRECT;

std::vector<Case> cases()
{
    return {
        // from_container (tc ingress on h1)
        {"forward IPv4 to another endpoint", Hook::TcEndpoint, DevId::H1, [] { return from_e1().bytes(); }, kTcRedirect,
         [] { return routed(from_e1(), kH2, kC2).bytes(); }, {}, 2},
        {"forward IPv6 to another endpoint", Hook::TcEndpoint, DevId::H1,
         [] { return from_e1(L3::IPv6).bytes(); }, kTcRedirect,
         [] { return routed(from_e1(L3::IPv6), kH2, kC2).bytes(); }, {}, 2},
        {"frame switched to the endpoint's own MAC (bridge mode) goes unchanged", Hook::TcEndpoint, DevId::H1,
         [] { auto p = from_e1(); p.dst_mac = kC2; return p.bytes(); }, kTcRedirect, {}, {}, 2},
        {"TTL 1 switched to the endpoint's own MAC is still delivered (no router hop)", Hook::TcEndpoint, DevId::H1,
         [] { auto p = from_e1(); p.dst_mac = kC2; p.ttl = 1; return p.bytes(); }, kTcRedirect, {}, {}, 2},
        {"IPv6 with routing and destination-options headers is forwarded", Hook::TcEndpoint, DevId::H1,
         [] { auto p = from_e1(L3::IPv6); p.ipv6_ext = {43, 60}; return p.bytes(); }, kTcRedirect,
         [] { auto p = from_e1(L3::IPv6); p.ipv6_ext = {43, 60}; return routed(p, kH2, kC2).bytes(); }, {}, 2},
        {"IPv6 hop-by-hop options go to the stack", Hook::TcEndpoint, DevId::H1,
         [] { auto p = from_e1(L3::IPv6); p.ipv6_ext = {0}; return p.bytes(); }, kTcOk, {},
         FP_PASS_IPV6_HOP_BY_HOP, {}},
        {"spoofed source IP (not an endpoint) is dropped", Hook::TcEndpoint, DevId::H1,
         [] { auto p = from_e1(); p.src = IpAddr::parse("10.0.0.99"); return p.bytes(); }, kTcShot, {},
         FP_DROP_SPOOF_IP, {}},
        {"source IP of another endpoint is dropped", Hook::TcEndpoint, DevId::H1,
         [] { auto p = from_e1(); p.src = IpAddr::parse("10.0.0.2"); p.dst = IpAddr::parse("10.0.0.1"); return p.bytes(); },
         kTcShot, {}, FP_DROP_SPOOF_IP, {}},
        {"spoofed IPv6 source is dropped", Hook::TcEndpoint, DevId::H1,
         [] { auto p = from_e1(L3::IPv6); p.src = IpAddr::parse("fd00::99"); return p.bytes(); }, kTcShot, {},
         FP_DROP_SPOOF_IP, {}},
        {"spoofed source MAC is dropped", Hook::TcEndpoint, DevId::H1,
         [] { auto p = from_e1(); p.src_mac = MacAddr::parse("02:cc:00:00:09:09"); return p.bytes(); }, kTcShot, {},
         FP_DROP_SPOOF_MAC, {}},
        {"unknown destination goes to the stack unchanged", Hook::TcEndpoint, DevId::H1,
         [] { auto p = from_e1(); p.dst = IpAddr::parse("8.8.8.8"); return p.bytes(); }, kTcOk, {},
         FP_PASS_NO_ENDPOINT, {}},
        {"TTL 1 goes to the stack (which answers time-exceeded)", Hook::TcEndpoint, DevId::H1,
         [] { auto p = from_e1(); p.ttl = 1; return p.bytes(); }, kTcOk, {}, FP_PASS_TTL, {}},
        {"hop limit 1 goes to the stack", Hook::TcEndpoint, DevId::H1,
         [] { auto p = from_e1(L3::IPv6); p.ttl = 1; return p.bytes(); }, kTcOk, {}, FP_PASS_TTL, {}},
        {"IHL below 5 is dropped", Hook::TcEndpoint, DevId::H1,
         [] { auto b = from_e1().bytes(); b[14] = 0x44; return b; }, kTcShot, {}, FP_DROP_MALFORMED, {}},
        {"IHL beyond the packet is dropped", Hook::TcEndpoint, DevId::H1,
         [] { auto p = from_e1(); p.payload = 0; auto b = p.bytes(); b[14] = 0x4f; return b; }, kTcShot, {},
         FP_DROP_MALFORMED, {}},
        {"IP version 5 in an IPv4 frame is dropped", Hook::TcEndpoint, DevId::H1,
         [] { auto b = from_e1().bytes(); b[14] = 0x55; return b; }, kTcShot, {}, FP_DROP_MALFORMED, {}},
        {"IPv4 total length past the frame is dropped", Hook::TcEndpoint, DevId::H1,
         [] { return ipv4_total_length(static_cast<std::uint16_t>(from_e1().bytes().size() - 14 + 1)); }, kTcShot, {},
         FP_DROP_MALFORMED, {}},
        {"IPv4 total length shorter than its header is dropped", Hook::TcEndpoint, DevId::H1,
         [] { return ipv4_total_length(19); }, kTcShot, {}, FP_DROP_MALFORMED, {}},
        {"Ethernet padding after the IPv4 packet is allowed", Hook::TcEndpoint, DevId::H1,
         [] { auto b = from_e1().bytes(); b.resize(b.size() + 6); return b; }, kTcRedirect,
         [] { auto b = routed(from_e1(), kH2, kC2).bytes(); b.resize(b.size() + 6); return b; }, {}, 2},
        {"a bad IPv4 header checksum is dropped", Hook::TcEndpoint, DevId::H1,
         [] { auto b = from_e1().bytes(); b[24] ^= 0x01; return b; }, kTcShot, {}, FP_DROP_MALFORMED, {}},
        {"IPv4 options go to the stack", Hook::TcEndpoint, DevId::H1, [] { return with_ipv4_options(from_e1()); },
         kTcOk, {}, FP_PASS_IP_OPTIONS, {}},
        {"IPv4 options with a spoofed source are dropped", Hook::TcEndpoint, DevId::H1,
         [] { auto p = from_e1(); p.src = IpAddr::parse("10.0.0.2"); return with_ipv4_options(p); }, kTcShot, {},
         FP_DROP_SPOOF_IP, {}},
        {"IPv6 payload length past the frame is dropped", Hook::TcEndpoint, DevId::H1,
         [] { auto b = from_e1(L3::IPv6).bytes(); b[19] = static_cast<std::uint8_t>(b[19] + 1); return b; }, kTcShot,
         {}, FP_DROP_MALFORMED, {}},
        {"an IPv4-mapped IPv6 source is not taken for the endpoint's IPv4 address", Hook::TcEndpoint, DevId::H1,
         [] { auto p = from_e1(L3::IPv6); p.src = IpAddr::parse("10.0.0.1"); /* written as ::ffff:10.0.0.1 */ return p.bytes(); }, kTcShot, {},
         FP_DROP_V4_MAPPED, {}},
        {"VLAN-tagged frame from a container is dropped", Hook::TcEndpoint, DevId::H1,
         [] { auto p = from_e1(); p.vlan = 7; return p.bytes(); }, kTcShot, {}, FP_DROP_VLAN, {}},
        {"two VID-0 tags around another endpoint's source are dropped", Hook::TcEndpoint, DevId::H1,
         [] {
             auto p = from_e1();
             p.src = IpAddr::parse("10.0.0.2"); // E2's address, sent by E1
             p.vlan = 0;
             auto b = p.bytes();
             const std::uint8_t outer[] = {0x81, 0x00, 0x00, 0x00}; // 8100, VID 0
             b.insert(b.begin() + 12, std::begin(outer), std::end(outer));
             return b;
         },
         kTcShot, {}, FP_DROP_VLAN, {}},
        {"802.1ad outer tag is dropped too", Hook::TcEndpoint, DevId::H1,
         [] {
             auto p = from_e1();
             p.vlan = 0;
             auto b = p.bytes();
             const std::uint8_t outer[] = {0x88, 0xa8, 0x00, 0x00};
             b.insert(b.begin() + 12, std::begin(outer), std::end(outer));
             return b;
         },
         kTcShot, {}, FP_DROP_VLAN, {}},
        {"ARP goes to the stack", Hook::TcEndpoint, DevId::H1,
         [] { auto p = from_e1(); p.l3 = L3::Arp; return p.bytes(); }, kTcOk, {}, FP_PASS_NOT_IP, {}},
        {"ARP with a spoofed MAC is dropped", Hook::TcEndpoint, DevId::H1,
         [] { auto p = from_e1(); p.l3 = L3::Arp; p.src_mac = MacAddr::parse("02:cc:00:00:09:09"); return p.bytes(); },
         kTcShot, {}, FP_DROP_SPOOF_MAC, {}},
        {"IPv6 link-local source (NDP) goes to the stack", Hook::TcEndpoint, DevId::H1,
         [] { auto p = from_e1(L3::IPv6); p.src = IpAddr::parse("fe80::cc:1"); return p.bytes(); }, kTcOk, {},
         FP_PASS_LINK_LOCAL, {}},
        {"from_container on a device with no endpoint drops", Hook::TcEndpoint, DevId::UP0,
         [] { auto p = from_e1(); p.l3 = L3::Arp; return p.bytes(); }, kTcShot, {}, FP_DROP_NOT_ENDPOINT, {}},
        // A tun has no MACs (zero in its records): the redirect to it strips the header.
        {"a container's packet to a tun endpoint is routed to the tun", Hook::TcEndpoint, DevId::H1,
         [] { auto p = from_e1(); p.dst = IpAddr::parse("10.0.0.3"); return p.bytes(); }, kTcRedirect,
         [] {
             auto p = from_e1();
             p.dst = IpAddr::parse("10.0.0.3");
             return routed(p, MacAddr{}, MacAddr{}).bytes();
         },
         {}, 3},

        // from_uplink (tc ingress on up0)
        {"uplink tc: IPv4 to an endpoint is redirected", Hook::TcUplink, DevId::UP0,
         [] { return from_lan().bytes(); }, kTcRedirect, [] { return routed(from_lan(), kH1, kC1).bytes(); }, {}, 1},
        {"uplink tc: IPv6 to an endpoint is redirected", Hook::TcUplink, DevId::UP0,
         [] { return from_lan(L3::IPv6).bytes(); }, kTcRedirect,
         [] { return routed(from_lan(L3::IPv6), kH1, kC1).bytes(); }, {}, 1},
        {"uplink tc: a frame for another host's MAC is not routed", Hook::TcUplink, DevId::UP0,
         [] { auto p = from_lan(); p.dst_mac = MacAddr::parse("02:cc:00:00:00:77"); return p.bytes(); }, kTcOk, {},
         FP_PASS_NOT_FOR_HOST, {}},
        {"uplink tc: unknown destination goes to the stack", Hook::TcUplink, DevId::UP0,
         [] { auto p = from_lan(); p.dst = IpAddr::parse("10.0.0.77"); return p.bytes(); }, kTcOk, {},
         FP_PASS_NO_ENDPOINT, {}},

        // xdp_uplink (XDP on up0)
        {"XDP: IPv4 to an endpoint is redirected", Hook::Xdp, DevId::UP0, [] { return from_lan().bytes(); },
         XDP_REDIRECT, [] { return routed(from_lan(), kH1, kC1).bytes(); }, {}, 1},
        {"XDP: IPv6 to an endpoint is redirected", Hook::Xdp, DevId::UP0, [] { return from_lan(L3::IPv6).bytes(); },
         XDP_REDIRECT, [] { return routed(from_lan(L3::IPv6), kH1, kC1).bytes(); }, {}, 1},
        {"XDP: unknown destination passes unchanged", Hook::Xdp, DevId::UP0,
         [] { auto p = from_lan(); p.dst = IpAddr::parse("10.0.0.77"); return p.bytes(); }, XDP_PASS, {},
         FP_PASS_NO_ENDPOINT, {}},
        {"XDP: broadcast frame passes", Hook::Xdp, DevId::UP0,
         [] { auto p = from_lan(); p.dst_mac = MacAddr::parse("ff:ff:ff:ff:ff:ff"); return p.bytes(); }, XDP_PASS, {},
         FP_PASS_NOT_FOR_HOST, {}},
        {"XDP: TTL 1 passes", Hook::Xdp, DevId::UP0, [] { auto p = from_lan(); p.ttl = 1; return p.bytes(); },
         XDP_PASS, {}, FP_PASS_TTL, {}},
        {"XDP: ARP passes", Hook::Xdp, DevId::UP0, [] { auto p = from_lan(); p.l3 = L3::Arp; return p.bytes(); },
         XDP_PASS, {}, FP_PASS_NOT_IP, {}},
        {"XDP: VLAN-tagged frame passes", Hook::Xdp, DevId::UP0,
         [] { auto p = from_lan(); p.vlan = 7; return p.bytes(); }, XDP_PASS, {}, FP_PASS_VLAN, {}},
        // Truncated headers: the kernel's skb test run refuses IP frames shorter than their
        // base header, so these run through XDP, which shares the parser (lib/parse.h).
        {"XDP: Ethernet-only frame is dropped as malformed", Hook::Xdp, DevId::UP0,
         [] { auto p = from_lan(); p.l3 = L3::None; return p.bytes(); }, XDP_DROP, {}, FP_DROP_MALFORMED, {}},
        {"XDP: short IPv4 header is dropped", Hook::Xdp, DevId::UP0,
         [] { return truncated(from_lan().bytes(), 14 + 19); }, XDP_DROP, {}, FP_DROP_MALFORMED, {}},
        {"XDP: short IPv6 header is dropped", Hook::Xdp, DevId::UP0,
         [] { return truncated(from_lan(L3::IPv6).bytes(), 14 + 39); }, XDP_DROP, {}, FP_DROP_MALFORMED, {}},
        {"XDP: bad IHL is dropped", Hook::Xdp, DevId::UP0,
         [] { auto b = from_lan().bytes(); b[14] = 0x43; return b; }, XDP_DROP, {}, FP_DROP_MALFORMED, {}},
        {"XDP: a LAN packet from a local endpoint's address is dropped (rp_filter comes too late)", Hook::Xdp,
         DevId::UP0, [] { auto p = from_lan(); p.src = IpAddr::parse("10.0.0.2"); return p.bytes(); }, XDP_DROP, {},
         FP_DROP_SPOOF_IP, {}},
        {"tc: a LAN packet from a local endpoint's IPv6 address is dropped", Hook::TcUplink, DevId::UP0,
         [] { auto p = from_lan(L3::IPv6); p.src = IpAddr::parse("fd00::2"); return p.bytes(); }, kTcShot, {},
         FP_DROP_SPOOF_IP, {}},
        {"XDP: a bad IPv4 header checksum is dropped", Hook::Xdp, DevId::UP0,
         [] { auto b = from_lan().bytes(); b[22] ^= 0x10; return b; }, XDP_DROP, {}, FP_DROP_MALFORMED, {}},
        {"XDP: IPv4 options go to the stack", Hook::Xdp, DevId::UP0, [] { return with_ipv4_options(from_lan()); },
         XDP_PASS, {}, FP_PASS_IP_OPTIONS, {}},
        {"XDP: IPv6 to an IPv4-mapped address is dropped", Hook::Xdp, DevId::UP0,
         [] { auto p = from_lan(L3::IPv6); p.dst = IpAddr::parse("10.0.0.1"); /* ::ffff:10.0.0.1 */ return p.bytes(); }, XDP_DROP, {},
         FP_DROP_V4_MAPPED, {}},
        {"tc: IPv4 total length past the frame is dropped", Hook::TcUplink, DevId::UP0,
         [] {
             auto b = from_lan().bytes();
             b[17] = static_cast<std::uint8_t>(b[17] + 1);
             refresh_ipv4_checksum(b);
             return b;
         },
         kTcShot, {}, FP_DROP_MALFORMED, {}},
        {"uplink tc: a LAN packet to a tun endpoint is routed to the tun", Hook::TcUplink, DevId::UP0,
         [] { auto p = from_lan(); p.dst = IpAddr::parse("10.0.0.3"); return p.bytes(); }, kTcRedirect,
         [] {
             auto p = from_lan();
             p.dst = IpAddr::parse("10.0.0.3");
             return routed(p, MacAddr{}, MacAddr{}).bytes();
         },
         {}, 3},
        // Untouched (no TTL taken): tc, next, routes it.
        {"XDP: a packet to a tun endpoint goes on to tc as it came", Hook::Xdp, DevId::UP0,
         [] { auto p = from_lan(); p.dst = IpAddr::parse("10.0.0.3"); return p.bytes(); }, XDP_PASS, {},
         FP_PASS_KIND, {}},
    };
}

// gtest prints a row by its description, not its bytes.
void PrintTo(const Case &c, std::ostream *os)
{
    *os << c.name;
}

class DatapathProgTest : public ProgFixture, public ::testing::WithParamInterface<Case> {
protected:
    void SetUp() override
    {
        ProgFixture::SetUp();
        if (HasFatalFailure())
            return;
        add_two_endpoints_and_uplink();
        add_endpoint(tun0, 3, FP_EP_TUN, {"10.0.0.3"});
    }
};

TEST_P(DatapathProgTest, Verdict)
{
    const Case &c = GetParam();
    const Dev &dev = c.dev == DevId::H1 ? h1 : up0;
    const fp_hook hook = c.hook == Hook::Xdp        ? FP_HOOK_XDP_UPLINK
                         : c.hook == Hook::TcUplink ? FP_HOOK_TC_UPLINK
                                                    : FP_HOOK_TC_ENDPOINT;
    const std::uint64_t reason_before = c.reason ? reason_count(hook, *c.reason) : 0;
    const fp_ep_stats to_before = ep_counters(c.to_slot.value_or(0));
    const fp_ep_stats e1_before = ep_counters(1);

    const Bytes in = c.input();
    const RunResult r = c.hook == Hook::Xdp ? run_xdp(dev, in)
                                            : run_tc(c.hook == Hook::TcUplink ? Program::TcUplink : Program::TcEndpoint,
                                                     dev, in);
    EXPECT_EQ(r.retval, c.verdict);
    const Bytes expected = c.output ? c.output() : in;
    EXPECT_EQ(r.out, expected) << hex_diff(expected, r.out);

    if (c.reason) {
        EXPECT_EQ(reason_count(hook, *c.reason), reason_before + 1) << "reason " << *c.reason << " not counted once";
    }
    if (c.to_slot) {
        const fp_ep_stats after = ep_counters(*c.to_slot);
        EXPECT_EQ(after.to_packets, to_before.to_packets + 1);
        EXPECT_EQ(after.to_bytes, to_before.to_bytes + in.size());
    }
    // Every frame that passed anti-spoofing on h1 counts as sent by E1; drops do not.
    if (c.hook == Hook::TcEndpoint && c.dev == DevId::H1) {
        const bool accepted = c.verdict != kTcShot;
        EXPECT_EQ(ep_counters(1).from_packets, e1_before.from_packets + (accepted ? 1 : 0));
    }
}

INSTANTIATE_TEST_SUITE_P(Table, DatapathProgTest, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case> &info) {
                             std::string n;
                             for (const char *p = info.param.name; *p; ++p)
                                 n += std::isalnum(static_cast<unsigned char>(*p)) ? *p : '_';
                             return n;
                         });

// A tap endpoint is an ordinary device: from the uplink, tc transmits to it (bpf_redirect).
// Zones (the daemon's attach mode: one per bridge): endpoints of two different zones are
// handed to the stack, whose firewall decides (pass_other_zone, packet unchanged); one
// zone, or a zone-less side, is short-circuited as before.
TEST_F(ProgFixture, EndpointsOfTwoZonesAreLeftToTheStack)
{
    add_two_endpoints_and_uplink();
    const auto set_zone = [&](const char *addr, std::uint32_t zone) {
        fp_endpoint ep = maps->endpoints.lookup(endpoint_key(IpAddr::parse(addr))).value();
        ep.zone = zone;
        maps->endpoints.upsert(endpoint_key(IpAddr::parse(addr)), ep);
    };
    const Bytes in = from_e1().bytes();
    set_zone("10.0.0.1", 7);
    set_zone("10.0.0.2", 9);
    const std::uint64_t before = reason_count(FP_HOOK_TC_ENDPOINT, FP_PASS_OTHER_ZONE);
    RunResult r = run_tc(Program::TcEndpoint, h1, in);
    EXPECT_EQ(r.retval, static_cast<std::uint32_t>(TC_ACT_OK));
    EXPECT_EQ(r.out, in) << hex_diff(in, r.out);
    EXPECT_EQ(reason_count(FP_HOOK_TC_ENDPOINT, FP_PASS_OTHER_ZONE), before + 1);

    set_zone("10.0.0.2", 7);
    EXPECT_EQ(run_tc(Program::TcEndpoint, h1, in).retval, static_cast<std::uint32_t>(TC_ACT_REDIRECT)) << "one zone";
    set_zone("10.0.0.2", 0);
    EXPECT_EQ(run_tc(Program::TcEndpoint, h1, in).retval, static_cast<std::uint32_t>(TC_ACT_REDIRECT)) << "zone-less";
    set_zone("10.0.0.1", 0);
    set_zone("10.0.0.2", 9);
    EXPECT_EQ(run_tc(Program::TcEndpoint, h1, in).retval, static_cast<std::uint32_t>(TC_ACT_REDIRECT))
        << "from a zone-less sender";
    r = run_xdp(up0, from_lan(L3::IPv4).bytes());
    EXPECT_EQ(r.retval, static_cast<std::uint32_t>(XDP_REDIRECT)) << "uplinks reach every zone";
}

// A router sends nothing larger than the next link's MTU: a packet longer than the
// endpoint device's MTU goes to the stack unchanged (pass_mtu; the stack fragments it or
// answers with fragmentation needed / packet too big), from tc and XDP, IPv4 and IPv6;
// one of exactly the MTU is delivered.
TEST_F(ProgFixture, PacketsLargerThanTheEndpointsMtuGoToTheStack)
{
    add_two_endpoints_and_uplink();
    const ScopedMtu h1_mtu("h1", 1400), h2_mtu("h2", 1400);
    for (const L3 l3 : {L3::IPv4, L3::IPv6}) {
        SCOPED_TRACE(l3 == L3::IPv4 ? "IPv4" : "IPv6");
        const std::size_t headers = (l3 == L3::IPv4 ? 20 : 40) + 8;
        Packet big = from_e1(l3);
        big.payload = 1401 - headers;
        const std::uint64_t tc_before = reason_count(FP_HOOK_TC_ENDPOINT, FP_PASS_MTU);
        expect(run_tc(Program::TcEndpoint, h1, big.bytes()), kTcOk, big);
        EXPECT_EQ(reason_count(FP_HOOK_TC_ENDPOINT, FP_PASS_MTU), tc_before + 1);

        Packet fits = big;
        fits.payload = 1400 - headers;
        expect(run_tc(Program::TcEndpoint, h1, fits.bytes()), kTcRedirect, routed(fits, kH2, kC2));

        Packet from_outside = from_lan(l3);
        from_outside.payload = 1401 - headers;
        const std::uint64_t xdp_before = reason_count(FP_HOOK_XDP_UPLINK, FP_PASS_MTU);
        expect(run_xdp(up0, from_outside.bytes()), XDP_PASS, from_outside);
        EXPECT_EQ(reason_count(FP_HOOK_XDP_UPLINK, FP_PASS_MTU), xdp_before + 1);
    }
}

TEST_F(ProgFixture, TapEndpointIsReachedByRedirect)
{
    add_endpoint(h2, 2, FP_EP_TAP, {"10.0.0.2"});
    add_uplink(up0);
    Packet p = from_lan();
    p.dst = IpAddr::parse("10.0.0.2");
    const RunResult r = run_tc(Program::TcUplink, up0, p.bytes());
    EXPECT_EQ(r.retval, kTcRedirect);
    EXPECT_EQ(r.out, routed(p, kH2, kC2).bytes());
}

// XDP can only reach devices in the devmap; an endpoint missing there is a loader bug,
// and the already rewritten frame must be dropped, not handed to the stack.
TEST_F(ProgFixture, XdpDropsWhenDevmapEntryIsMissing)
{
    add_endpoint(h1, 1, FP_EP_VETH, {"10.0.0.1"});
    add_uplink(up0);
    maps->tx_devs.erase(h1.ifindex);
    const std::uint64_t before = reason_count(FP_HOOK_XDP_UPLINK, FP_DROP_REDIRECT);
    const RunResult r = run_xdp(up0, from_lan().bytes());
    EXPECT_EQ(r.retval, static_cast<std::uint32_t>(XDP_DROP));
    EXPECT_EQ(reason_count(FP_HOOK_XDP_UPLINK, FP_DROP_REDIRECT), before + 1);
}

// fp_ep_prefixes answers "no endpoint there" without a hash lookup, so the loader marks an
// endpoint's prefix before it writes the endpoint. A prefix left unmarked hides its
// endpoints from every hook (shown here with the mark taken away behind the loader's back,
// IPv4 and IPv6): the bucket, not the endpoint table, is what a miss is decided by.
TEST_F(ProgFixture, AnEndpointIsFoundOnlyInAPrefixMarkedAsHoldingOne)
{
    add_two_endpoints_and_uplink();
    for (const L3 l3 : {L3::IPv4, L3::IPv6}) {
        SCOPED_TRACE(l3 == L3::IPv4 ? "IPv4" : "IPv6");
        const Packet p = from_lan(l3);
        const fp_addr dst = p.dst.raw();
        const std::uint32_t bucket = fp_ep_prefix_bucket(&dst);
        ASSERT_EQ(maps->ep_prefixes.lookup(bucket), std::optional<std::uint8_t>(1)) << "marked by add_endpoint";
        maps->ep_prefixes.upsert(bucket, 0);
        const std::uint64_t before = reason_count(FP_HOOK_XDP_UPLINK, FP_PASS_NO_ENDPOINT);
        expect(run_xdp(up0, p.bytes()), XDP_PASS, p);
        EXPECT_EQ(reason_count(FP_HOOK_XDP_UPLINK, FP_PASS_NO_ENDPOINT), before + 1);
        mark_endpoint_prefix(*maps, p.dst);
        expect(run_xdp(up0, p.bytes()), XDP_REDIRECT, routed(p, kH1, kC1));
    }
}

} // namespace
} // namespace fp::test

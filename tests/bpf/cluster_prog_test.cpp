// Other hosts' containers on the production programs: a container's packet to another
// host's subnet (fp_cluster, with the host's route via that host) leaves up0 for that
// host with the container's own address, although its subnet is masqueraded; what the
// routes do not forward goes to the stack untranslated and counted. A port published
// here whose backend is the peer's container: translated both ways (to the backend, and
// from this host's address and a masquerade port) and routed to the peer by tc, while XDP
// hands its packets on; the backend's answers come back here and go to the client.
//
// Map setup: the world of prog_fixture.hpp (E1 10.0.0.1 / fd00::1 on h1, uplink up0 with
// the LAN 10.99.0.0/24, fd99::/64 and its client .5 / ::5 standing in for the peer host),
// masquerade for 10.0.0.0/24 and fd00::/64, and the cluster networks 10.1.0.0/16 and
// fd10::/56 with the peer's subnets 10.1.17.0/24 and fd10:0:0:11::/64.
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include "config_counts.hpp"
#include "ip_prefix.hpp"
#include "prog_fixture.hpp"
#include "test_world.hpp"

namespace fp::test {
namespace {

constexpr std::uint32_t kTcOk = TC_ACT_OK, kTcRedirect = TC_ACT_REDIRECT, kXdpPass = XDP_PASS;
constexpr std::uint8_t kTcp = 6;

fp_cluster_key cluster_key(const std::string &prefix)
{
    const IpPrefix p = IpPrefix::parse(prefix);
    return fp_cluster_key{static_cast<__u32>(p.len128()), p.network.raw()};
}

class ClusterTest : public ProgFixture {
protected:
    void SetUp() override
    {
        ProgFixture::SetUp();
        if (HasFatalFailure())
            return;
        add_masquerading_host();
        for (const char *network : {"10.1.0.0/16", "fd10::/56"})
            maps->cluster.upsert(cluster_key(network), fp_cluster_dest{});
        maps->cluster.upsert(cluster_key("10.1.17.0/24"), fp_cluster_dest{IpAddr::parse("10.99.0.5").raw(), 0, 0, {}, {}});
        maps->cluster.upsert(cluster_key("fd10:0:0:11::/64"), fp_cluster_dest{IpAddr::parse("fd99::5").raw(), 0, 0, {}, {}});
        adjust_config(*maps, [](fp_config &c) { c.cluster_dests = 4; });
    }
    // vxlan: the peer's subnet 10.1.18.0/24 through a tunnel device (up0 stands in for
    // it) to the peer's tunnel MAC, returned.
    MacAddr add_tunnelled_subnet()
    {
        const MacAddr vtep = MacAddr::parse("02:77:77:00:00:01");
        fp_cluster_dest d{IpAddr::parse("192.168.82.2").raw(), 7, up0.ifindex, {}, {}};
        std::copy(vtep.bytes().begin(), vtep.bytes().end(), d.peer_mac);
        maps->cluster.upsert(cluster_key("10.1.18.0/24"), d);
        adjust_config(*maps, [](fp_config &c) { c.cluster_dests = 5; });
        return vtep;
    }
};

// A SYN to a container in the peer's subnet leaves up0 to the peer (the route's next
// hop's MAC), routed (TTL down) and untranslated: no flow is made.
TEST_F(ClusterTest, AnotherHostsContainerIsReachedWithTheContainersOwnAddress)
{
    const ScopedRoute v4("10.1.17.0/24", "10.99.0.5"), v6("fd10:0:0:11::/64", "fd99::5");
    for (const auto &[src, dst] : {std::pair{"10.0.0.1", "10.1.17.9"}, std::pair{"fd00::1", "fd10:0:0:11::9"}}) {
        SCOPED_TRACE(dst);
        const Packet syn = sent_by(kC1, kH1, IpAddr::parse(src), 40000, IpAddr::parse(dst), 80, 6, 0x02);
        expect(run_tc(Program::TcEndpoint, h1, syn.bytes()), kTcRedirect, routed_to_lan(syn));
    }
    EXPECT_TRUE(maps->ct.entries().empty());
    EXPECT_TRUE(maps->ct_new.entries().empty());
}

// vxlan: a packet to a peer's subnet through the tunnel device (here up0) is addressed to
// the peer's tunnel MAC from the host's, routed, untranslated; one larger than the tunnel's
// MTU goes to the stack as it came (pass_mtu), whose route is on the tunnel device.
TEST_F(ClusterTest, ATunnelledSubnetGoesToThePeersTunnelMac)
{
    const MacAddr vtep = add_tunnelled_subnet();
    const Packet syn = sent_by(kC1, kH1, IpAddr::parse("10.0.0.1"), 40000, IpAddr::parse("10.1.18.9"), 80, 6, 0x02);
    Packet want = syn;
    want.src_mac = kH1;
    want.dst_mac = vtep;
    want.ttl--;
    expect(run_tc(Program::TcEndpoint, h1, syn.bytes()), kTcRedirect, want);
    EXPECT_TRUE(maps->ct_new.entries().empty());

    const ScopedMtu small("up0", 1300);
    Packet big = syn;
    big.payload = 1400;
    const std::uint64_t before = reason_count(FP_HOOK_TC_ENDPOINT, FP_PASS_MTU);
    expect(run_tc(Program::TcEndpoint, h1, big.bytes()), kTcOk, big);
    EXPECT_EQ(reason_count(FP_HOOK_TC_ENDPOINT, FP_PASS_MTU), before + 1);
}

// Without the cluster's entries the same packet is masqueraded: the row above passes
// because of them. With only the cluster network known (no host has 10.1.99.0/24, no
// route), it goes to the stack as it is, counted.
TEST_F(ClusterTest, WithoutARouteItGoesToTheStackUntranslated)
{
    const ScopedRoute v4("10.1.17.0/24", "10.99.0.5");
    const Packet unrouted = sent_by(kC1, kH1, IpAddr::parse("10.0.0.1"), 40000, IpAddr::parse("10.1.99.9"), 80, 6, 0x02);
    const std::uint64_t before = reason_count(FP_HOOK_TC_ENDPOINT, FP_PASS_CLUSTER_NO_ROUTE);
    expect(run_tc(Program::TcEndpoint, h1, unrouted.bytes()), kTcOk, unrouted);
    EXPECT_EQ(reason_count(FP_HOOK_TC_ENDPOINT, FP_PASS_CLUSTER_NO_ROUTE), before + 1);
    EXPECT_TRUE(maps->ct_new.entries().empty());

    for (const auto &[key, dest] : maps->cluster.entries())
        maps->cluster.erase(key);
    adjust_config(*maps, [](fp_config &c) { c.cluster_dests = 0; });
    const Packet syn = sent_by(kC1, kH1, IpAddr::parse("10.0.0.1"), 40001, IpAddr::parse("10.1.17.9"), 80, 6, 0x02);
    const RunResult out = run_tc(Program::TcEndpoint, h1, syn.bytes());
    EXPECT_EQ(out.retval, kTcRedirect);
    EXPECT_FALSE(maps->ct_new.entries().empty()) << "no cluster entry: a masqueraded flow";
}

// The host (up0: 10.99.0.1, fd99::1) publishes port 8080 on the peer's container .9; the
// LAN client .5 (::5) connects to it.
class RemoteBackendTest : public ClusterTest {
protected:
    void SetUp() override
    {
        ClusterTest::SetUp();
        if (HasFatalFailure())
            return;
        for (const auto &[host, backend] : {std::pair{"10.99.0.1", "10.1.17.9"}, std::pair{"fd99::1", "fd10:0:0:11::9"}}) {
            maps->dnat.upsert(fp_dnat_key{IpAddr::parse(host).raw(), htons(8080), kTcp, 0},
                              fp_dnat_backend{IpAddr::parse(backend).raw(), htons(80), {}});
            maps->backends.upsert(fp_backend_key{IpAddr::parse(backend).raw(), htons(80), kTcp, 0}, 1);
        }
        adjust_config(*maps, [](fp_config &c) { c.dnat_entries = 2; });
    }
    static Packet lan_to_published(const char *client, const char *host, std::uint8_t flags)
    {
        return sent_by(kLan, kUp0, IpAddr::parse(client), 40000, IpAddr::parse(host), 8080, kTcp, flags);
    }
    // p with its addresses and ports translated to src:sport -> dst:dport.
    static Packet translated(Packet p, const IpAddr &src, std::uint16_t sport, const IpAddr &dst, std::uint16_t dport)
    {
        p.src = src;
        p.sport = sport;
        p.dst = dst;
        p.dport = dport;
        return p;
    }
};

// The client's SYN: XDP hands it on as it came (pass_remote_backend), making no flow; tc
// sends it to the peer with this host's address and a port of the masquerade range as its
// source; the backend's SYN-ACK to that port (XDP: handed on) comes back to the client
// from the published address; the client's ACK assures the flow. IPv4 and IPv6.
TEST_F(RemoteBackendTest, APublishedPortReachesAnotherHostsContainerAndItsAnswersComeBack)
{
    const ScopedRoute v4("10.1.17.0/24", "10.99.0.5"), v6("fd10:0:0:11::/64", "fd99::5");
    for (const auto &[client, host, backend] : {std::tuple{"10.99.0.5", "10.99.0.1", "10.1.17.9"},
                                                std::tuple{"fd99::5", "fd99::1", "fd10:0:0:11::9"}}) {
        SCOPED_TRACE(backend);
        const IpAddr c = IpAddr::parse(client), h = IpAddr::parse(host), b = IpAddr::parse(backend);
        const Packet syn = lan_to_published(client, host, 0x02);
        const std::uint64_t handed_on = reason_count(FP_HOOK_XDP_UPLINK, FP_PASS_REMOTE_BACKEND);
        expect(run_xdp(up0, syn.bytes()), kXdpPass, syn);
        EXPECT_EQ(reason_count(FP_HOOK_XDP_UPLINK, FP_PASS_REMOTE_BACKEND), handed_on + 1);
        EXPECT_FALSE(ct(c, 40000, h, 8080, kTcp, FP_CT_ORIGINAL)) << "XDP made a flow";

        const RunResult out = run_tc(Program::TcUplink, up0, syn.bytes());
        const auto flow = ct(c, 40000, h, 8080, kTcp, FP_CT_ORIGINAL);
        ASSERT_TRUE(flow);
        EXPECT_EQ(flow->kind, FP_CT_KIND_DNAT_REMOTE);
        const std::uint16_t port = ntohs(flow->sport);
        EXPECT_GE(port, FP_MASQ_PORT_MIN_DEFAULT);
        const Packet to_peer = translated(syn, h, port, b, 80);
        expect(out, kTcRedirect, routed_to_lan(to_peer));

        Packet synack = sent_by(kLan, kUp0, b, 80, h, port, kTcp, 0x12);
        synack.tcp_seq = 0x7000;
        expect(run_xdp(up0, synack.bytes()), kXdpPass, synack);
        expect(run_tc(Program::TcUplink, up0, synack.bytes()), kTcRedirect,
               routed_to_lan(translated(synack, h, 8080, c, 40000)));

        Packet ack = lan_to_published(client, host, 0x10);
        ack.tcp_ack = 0x7001;
        Packet ack_to_peer = to_peer;
        ack_to_peer.tcp_flags = 0x10;
        ack_to_peer.tcp_ack = 0x7001;
        expect(run_tc(Program::TcUplink, up0, ack.bytes()), kTcRedirect, routed_to_lan(ack_to_peer));
        EXPECT_TRUE(maps->ct.lookup(ct_key(c, 40000, h, 8080, kTcp, FP_CT_ORIGINAL))) << "the flow is not assured";
    }
}

// vxlan: the backend's subnet is behind the tunnel: the SYN goes through the tunnel device
// to the peer's tunnel MAC, from the address the host's route to the subnet prefers (on a
// real host the tunnel device's own; here up0's) and a masquerade port; the SYN-ACK,
// arriving through the tunnel at that address, goes back to the client from the published
// address.
TEST_F(RemoteBackendTest, ABackendBehindTheTunnelIsReachedThroughIt)
{
    const ScopedRoute route("10.1.18.0/24", "10.99.0.5");
    const MacAddr vtep = add_tunnelled_subnet();
    maps->dnat.upsert(fp_dnat_key{IpAddr::parse("10.99.0.1").raw(), htons(8081), kTcp, 0},
                      fp_dnat_backend{IpAddr::parse("10.1.18.9").raw(), htons(80), {}});
    maps->backends.upsert(fp_backend_key{IpAddr::parse("10.1.18.9").raw(), htons(80), kTcp, 0}, 1);
    adjust_config(*maps, [](fp_config &c) { c.dnat_entries = 3; });
    const IpAddr client = IpAddr::parse("10.99.0.5"), host = IpAddr::parse("10.99.0.1");
    const IpAddr backend = IpAddr::parse("10.1.18.9"), tunnel_addr = host;
    const Packet syn = sent_by(kLan, kUp0, client, 40000, host, 8081, kTcp, 0x02);
    const RunResult out = run_tc(Program::TcUplink, up0, syn.bytes());
    const auto flow = ct(client, 40000, host, 8081, kTcp, FP_CT_ORIGINAL);
    ASSERT_TRUE(flow) << "no flow: " << out.retval;
    EXPECT_EQ(flow->kind, FP_CT_KIND_DNAT_REMOTE);
    Packet into_tunnel = translated(syn, tunnel_addr, ntohs(flow->sport), backend, 80);
    into_tunnel.src_mac = kUp0;
    into_tunnel.dst_mac = vtep;
    into_tunnel.ttl--;
    expect(out, kTcRedirect, into_tunnel);

    const Packet synack = sent_by(vtep, kUp0, backend, 80, tunnel_addr, into_tunnel.sport, kTcp, 0x12);
    expect(run_tc(Program::TcUplink, up0, synack.bytes()), kTcRedirect,
           routed_to_lan(translated(synack, host, 8081, client, 40000)));
}

// A container of this host reaching the published port (hairpin) goes to the peer from
// this host's address too: the answer then comes back here, to be translated.
TEST_F(RemoteBackendTest, AContainerHereReachesItThroughTheHostsAddress)
{
    const ScopedRoute v4("10.1.17.0/24", "10.99.0.5");
    const Packet syn = sent_by(kC1, kH1, IpAddr::parse("10.0.0.1"), 40000, IpAddr::parse("10.99.0.1"), 8080, kTcp, 0x02);
    const RunResult out = run_tc(Program::TcEndpoint, h1, syn.bytes());
    const auto flow = ct(IpAddr::parse("10.0.0.1"), 40000, IpAddr::parse("10.99.0.1"), 8080, kTcp, FP_CT_ORIGINAL);
    ASSERT_TRUE(flow);
    EXPECT_EQ(flow->kind, FP_CT_KIND_DNAT_REMOTE);
    expect(out, kTcRedirect,
           routed_to_lan(translated(syn, IpAddr::parse("10.99.0.1"), ntohs(flow->sport), IpAddr::parse("10.1.17.9"), 80)));
}

// Without the peer's subnet in the cluster table, the backend is no other host's: the
// SYN is translated as for any backend (the client's source kept), by XDP itself, and
// handed to the stack, which routes it. The rows above pass because of the entry.
TEST_F(RemoteBackendTest, ABackendOutsideTheClusterKeepsTheClientsAddress)
{
    maps->cluster.erase(cluster_key("10.1.17.0/24"));
    const Packet syn = lan_to_published("10.99.0.5", "10.99.0.1", 0x02);
    Packet want = syn;
    want.dst = IpAddr::parse("10.1.17.9");
    want.dport = 80;
    expect(run_xdp(up0, syn.bytes()), kXdpPass, want);
    const auto flow = ct(IpAddr::parse("10.99.0.5"), 40000, IpAddr::parse("10.99.0.1"), 8080, kTcp, FP_CT_ORIGINAL);
    ASSERT_TRUE(flow);
    EXPECT_EQ(flow->kind, FP_CT_KIND_DNAT);
}

} // namespace
} // namespace fp::test

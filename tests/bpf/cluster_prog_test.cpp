// Other hosts' containers on the production programs: a container's packet to another
// host's subnet (fp_cluster, with the host's route via that host) leaves up0 for that
// host with the container's own address, although its subnet is masqueraded; what the
// routes do not forward goes to the stack untranslated and counted.
//
// Map setup: the world of prog_fixture.hpp (E1 10.0.0.1 / fd00::1 on h1, uplink up0 with
// the LAN 10.99.0.0/24, fd99::/64 and its client .5 / ::5 standing in for the peer host),
// masquerade for 10.0.0.0/24 and fd00::/64, and the cluster networks 10.1.0.0/16 and
// fd10::/56 with the peer's subnets 10.1.17.0/24 and fd10:0:0:11::/64.
#include <linux/pkt_cls.h>

#include "config_counts.hpp"
#include "ip_prefix.hpp"
#include "prog_fixture.hpp"
#include "test_world.hpp"

namespace fp::test {
namespace {

constexpr std::uint32_t kTcOk = TC_ACT_OK, kTcRedirect = TC_ACT_REDIRECT;

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
        maps->cluster.upsert(cluster_key("10.1.17.0/24"), fp_cluster_dest{IpAddr::parse("10.99.0.5").raw(), 0, 0});
        maps->cluster.upsert(cluster_key("fd10:0:0:11::/64"), fp_cluster_dest{IpAddr::parse("fd99::5").raw(), 0, 0});
        adjust_config(*maps, [](fp_config &c) { c.cluster_dests = 4; });
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
    const MacAddr vtep = MacAddr::parse("02:77:77:00:00:01");
    fp_cluster_dest d{IpAddr::parse("192.168.82.2").raw(), 7, up0.ifindex, {}, {}};
    std::copy(vtep.bytes().begin(), vtep.bytes().end(), d.peer_mac);
    maps->cluster.upsert(cluster_key("10.1.18.0/24"), d);
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

} // namespace
} // namespace fp::test

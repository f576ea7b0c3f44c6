// Flannel's etcd layout as flatpath reads and writes it: keys and records Flannel writes
// parse to the same subnets and hosts, what flatpath writes parses back, and a record
// that is wrong says what is wrong; the subnet pool leases Flannel's range.
#include <gtest/gtest.h>

#include "error.hpp"
#include "flannel_layout.hpp"
#include "subnet_pool.hpp"

namespace fp {
namespace {

// Scenario: a Flannel host-gw lease, as flanneld puts it, and a dual-stack one.
TEST(FlannelLayout, ReadsFlannelsRecords)
{
    const SubnetRecord r = parse_subnet_record("/coreos.com/network/subnets/10.1.17.0-24",
                                               R"({"PublicIP":"192.168.50.3","PublicIPv6":null,"BackendType":"host-gw","BackendData":null})", 7);
    EXPECT_EQ(r.subnet.str(), "10.1.17.0/24");
    EXPECT_FALSE(r.ipv6_subnet);
    EXPECT_EQ(r.public_ip.str(), "192.168.50.3");
    EXPECT_EQ(r.backend, ClusterBackend::HostGw);
    EXPECT_EQ(r.lease, 7);

    const SubnetRecord d = parse_subnet_record(
        "/p/subnets/10.1.18.0-24&fd10:0:0:12::-64",
        R"({"PublicIP":"192.168.50.4","PublicIPv6":"fd00::4","BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"aa:bb:cc:dd:ee:ff"}})", 0);
    ASSERT_TRUE(d.ipv6_subnet);
    EXPECT_EQ(d.ipv6_subnet->str(), "fd10:0:0:12::/64");
    EXPECT_EQ(d.public_ipv6->str(), "fd00::4");
    EXPECT_EQ(d.backend, ClusterBackend::Vxlan);
    EXPECT_EQ(d.backend_data["VNI"], 1);
    EXPECT_EQ(subnet_key(d.subnet, d.ipv6_subnet), "10.1.18.0-24&fd10:0:0:12::-64");

    const SubnetRecord back = parse_subnet_record("x/" + subnet_key(d.subnet, d.ipv6_subnet), subnet_value(d), 3);
    EXPECT_EQ(back.public_ipv6, d.public_ipv6);
    EXPECT_EQ(back.backend_data, d.backend_data);
}

// Scenario: each kind of broken record is refused with a message naming the problem.
TEST(FlannelLayout, RefusesBrokenRecords)
{
    const std::pair<const char *, const char *> bad[] = {
        {"/p/subnets/10.1.17.0", R"({"PublicIP":"1.2.3.4","BackendType":"host-gw"})"},
        {"/p/subnets/10.1.17.5-24", R"({"PublicIP":"1.2.3.4","BackendType":"host-gw"})"},
        {"/p/subnets/fd00::-64", R"({"PublicIP":"1.2.3.4","BackendType":"host-gw"})"},
        {"/p/subnets/10.1.17.0-24", R"(not json)"},
        {"/p/subnets/10.1.17.0-24", R"({"BackendType":"host-gw"})"},
        {"/p/subnets/10.1.17.0-24", R"({"PublicIP":"fd00::1","BackendType":"host-gw"})"},
        {"/p/subnets/10.1.17.0-24", R"({"PublicIP":"1.2.3.4","BackendType":"udp"})"},
        {"/p/subnets/10.1.17.0-24", R"({"PublicIP":7,"BackendType":"host-gw"})"},
    };
    for (const auto &[key, value] : bad)
        EXPECT_THROW(parse_subnet_record(key, value, 0), Error) << key << " " << value;
}

// Scenario: Flannel's config and its defaults; nonsense refused.
TEST(FlannelLayout, ReadsTheClusterConfig)
{
    const ClusterConfig c = ClusterConfig::parse(R"({"Network":"10.1.0.0/16","Backend":{"Type":"host-gw"}})");
    EXPECT_EQ(c.network->str(), "10.1.0.0/16");
    EXPECT_EQ(c.subnet_len, 24);
    EXPECT_EQ(c.backend, ClusterBackend::HostGw);
    const ClusterConfig v = ClusterConfig::parse(
        R"({"Network":"10.2.0.0/16","SubnetLen":20,"EnableIPv6":true,"IPv6Network":"fd10::/56","Backend":{"Type":"vxlan","VNI":42}})");
    EXPECT_EQ(v.ipv6_network->str(), "fd10::/56");
    EXPECT_EQ(v.backend, ClusterBackend::Vxlan);
    EXPECT_EQ(v.vni, 42u);
    EXPECT_EQ(ClusterConfig::parse(v.dump()).dump(), v.dump());
    for (const char *bad : {R"([])", R"({})", R"({"Network":"fd00::/16"})", R"({"Network":"10.1.0.0/16","SubnetLen":8})",
                            R"({"Network":"10.1.0.0/16","Backend":{"Type":"udp"}})", R"({"Network":"10.1.0.0/16","SubnetMin":"10.9.0.0"})",
                            R"({"Network":"10.1.0.0/16","EnableIPv6":true})"})
        EXPECT_THROW(ClusterConfig::parse(bad), Error) << bad;
}

// Scenario: a /16 in /24s leases 10.1.1.0 to 10.1.255.0 (not the network's own first
// subnet); SubnetMin/Max narrow it; a pick never returns a taken subnet, and none is left
// once all are taken.
TEST(SubnetPool, LeasesFlannelsRange)
{
    const SubnetPool pool(ClusterConfig::parse(R"({"Network":"10.1.0.0/16","Backend":{"Type":"host-gw"}})"), false);
    EXPECT_EQ(pool.size(), 255u);
    EXPECT_EQ(pool.at(0).str(), "10.1.1.0/24");
    EXPECT_EQ(pool.at(254).str(), "10.1.255.0/24");
    EXPECT_TRUE(pool.holds(IpPrefix::parse("10.1.17.0/24")));
    EXPECT_FALSE(pool.holds(IpPrefix::parse("10.1.0.0/24")));
    EXPECT_FALSE(pool.holds(IpPrefix::parse("10.2.17.0/24")));
    EXPECT_FALSE(pool.holds(IpPrefix::parse("10.1.16.0/20")));

    const SubnetPool narrow(ClusterConfig::parse(R"({"Network":"10.1.0.0/16","SubnetMin":"10.1.10.0","SubnetMax":"10.1.12.0","Backend":{"Type":"host-gw"}})"), false);
    ASSERT_EQ(narrow.size(), 3u);
    std::mt19937_64 rng(1);
    std::set<IpPrefix> taken;
    for (int i = 0; i < 3; ++i) {
        const auto s = narrow.pick_free(taken, rng);
        ASSERT_TRUE(s);
        EXPECT_TRUE(narrow.holds(*s));
        EXPECT_TRUE(taken.insert(*s).second) << s->str() << " picked twice";
    }
    EXPECT_FALSE(narrow.pick_free(taken, rng));

    const SubnetPool v6(ClusterConfig::parse(R"({"Network":"10.1.0.0/16","EnableIPv6":true,"IPv6Network":"fd10::/56","Backend":{"Type":"host-gw"}})"), true);
    EXPECT_EQ(v6.size(), 255u);
    EXPECT_EQ(v6.at(16).str(), "fd10:0:0:11::/64");
}

} // namespace
} // namespace fp

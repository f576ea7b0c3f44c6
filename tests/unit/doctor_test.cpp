// flatpath doctor's reading of other tools' rules and of rp_filter settings.
#include <gtest/gtest.h>

#include <map>

#include "doctor.hpp"

namespace fp {
namespace {

TEST(Doctor, IptablesMarkMasks)
{
    EXPECT_EQ(iptables_mark_masks("-A PREROUTING -p tcp -m tcp --sport 8080 -j MARK --set-xmark 0x2/0xffffffff"),
              (std::vector<std::uint32_t>{0xffffffff}));
    EXPECT_EQ(iptables_mark_masks("-A PREROUTING -m mark --mark 0x1/0x1 -j CONNMARK --save-mark --nfmask 0xff --ctmask 0xff"),
              (std::vector<std::uint32_t>{0x1, 0xff, 0xff}));
    EXPECT_EQ(iptables_mark_masks("-A OUTPUT -m mark --mark 0x4 -j ACCEPT"), (std::vector<std::uint32_t>{0xffffffff}));
    EXPECT_TRUE(iptables_mark_masks("-A INPUT -p tcp --dport 22 -j ACCEPT").empty());
}

TEST(Doctor, MarkBitUsersAreReportedOnlyWhenTheyOverlap)
{
    const std::string rules = R"([{"priority":0,"table":"local"},
        {"priority":100,"fwmark":"0x2","fwmask":"0xff","table":"200"},
        {"priority":101,"fwmark":"0x100","fwmask":"0xf00","table":"201"}])";
    const std::string ipt = "*mangle\n-A PREROUTING -j MARK --set-xmark 0x1/0x1\n-A PREROUTING -j MARK --set-xmark 0x400/0xf00\n";
    // nft -j list ruleset: iptables-nft's ip mangle (reported from iptables-save), and
    // inet mine with `meta mark set 0x2`, `meta mark & 0xff00 == 0x100` (other bits) and
    // `meta mark set meta mark & 0xffff00ff | 0x200` (other bits).
    const std::string nft = R"({"nftables": [{"metainfo": {"json_schema_version": 1}},
        {"rule": {"family": "ip", "table": "mangle", "chain": "PREROUTING", "handle": 2,
                  "expr": [{"mangle": {"key": {"meta": {"key": "mark"}}, "value": 1}}]}},
        {"rule": {"family": "inet", "table": "mine", "chain": "c", "handle": 2,
                  "expr": [{"mangle": {"key": {"meta": {"key": "mark"}}, "value": 2}}]}},
        {"rule": {"family": "inet", "table": "mine", "chain": "c", "handle": 3,
                  "expr": [{"match": {"op": "==", "left": {"&": [{"meta": {"key": "mark"}}, 65280]}, "right": 256}},
                           {"accept": null}]}},
        {"rule": {"family": "inet", "table": "mine", "chain": "c", "handle": 4,
                  "expr": [{"mangle": {"key": {"meta": {"key": "mark"}},
                                       "value": {"|": [{"&": [{"meta": {"key": "mark"}}, 4294902015]}, 512]}}}]}},
        {"rule": {"family": "inet", "table": "mine", "chain": "c", "handle": 5,
                  "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 22}},
                           {"accept": null}]}}]})";
    const auto f = mark_bit_findings(0xff, rules, ipt, nft);
    ASSERT_EQ(f.size(), 3u);
    EXPECT_NE(f[0].what.find("ip rule 100 (fwmark 0x2/0xff, table 200)"), std::string::npos) << f[0].what;
    EXPECT_NE(f[1].what.find("--set-xmark 0x1/0x1"), std::string::npos) << f[1].what;
    EXPECT_NE(f[2].what.find("nft rule in inet mine chain c (handle 2) uses mark bits 0xff"), std::string::npos)
        << f[2].what;
    EXPECT_EQ(nft_mark_findings(0xff0000, nft).size(), 1u) << "only `meta mark set 0x2` touches bits 16-23";
    EXPECT_EQ(nft_mark_findings(0xf00, nft).size(), 3u) << "the masked match and the masked set touch bits 8-11";
    EXPECT_FALSE(f[1].fix.empty());
    EXPECT_TRUE(mark_bit_findings(0, rules, ipt, nft).empty()) << "no marks, nothing to fight over";
}

// Which interfaces marked replies leave by: the routes of the tables that rules reading
// flatpath's bits select.
TEST(Doctor, MarkedGateways)
{
    const std::string rules = R"([{"priority":0,"table":"local"},
        {"priority":100,"fwmark":"0x2","fwmask":"0xff","table":"200"},
        {"priority":101,"fwmark":"0x100","fwmask":"0xf00","table":"201"},
        {"priority":102,"fwmark":"0x1","table":"202"}])";
    EXPECT_EQ(marked_tables(0xff, rules), (std::vector<std::string>{"200", "202"}));
    EXPECT_TRUE(marked_tables(0, rules).empty());
    EXPECT_EQ(route_devices(R"([{"dst":"default","gateway":"10.64.0.2","dev":"prov0"},
        {"dst":"10.9.0.0/16","dev":"vpn0"},{"dst":"127.0.0.0/8","dev":"lo"},{"dst":"10.8.0.0/16","dev":"prov0"}])"),
              (std::vector<std::string>{"prov0", "vpn0"}));
}

TEST(Doctor, StrictRpFilterWhereMarksMakeRoutingAsymmetric)
{
    std::map<std::string, int> rp = {{"all", 0}, {"vpn0", 1}, {"prov0", 2}, {"lo", 0}, {"cni0", 1}};
    std::map<std::string, int> vmark = {{"all", 0}, {"vpn0", 0}, {"prov0", 0}, {"lo", 0}, {"cni0", 0}};
    const auto get = [&](const std::string &dev, const std::string &key) {
        return key == "rp_filter" ? rp.at(dev) : vmark.at(dev);
    };
    RpFilterScope scope{{"prov0", "vpn0"}, {"cni0"}};
    auto f = rp_filter_findings(scope, get);
    ASSERT_EQ(f.size(), 1u) << "cni0 is strict, but without src_valid_mark the check ignores the mark";
    EXPECT_NE(f[0].what.find("on vpn0"), std::string::npos);
    EXPECT_TRUE(f[0].fix.starts_with("sysctl -w net.ipv4.conf.vpn0.rp_filter=2 (loose mode")) << f[0].fix;
    vmark["all"] = 1;
    f = rp_filter_findings(scope, get);
    ASSERT_EQ(f.size(), 2u);
    EXPECT_NE(f[1].what.find("on cni0 drops marked container replies"), std::string::npos) << f[1].what;
    EXPECT_TRUE(f[1].fix.starts_with("sysctl -w net.ipv4.conf.cni0.rp_filter=2")) << f[1].fix;
    EXPECT_TRUE(rp_filter_findings(RpFilterScope{{}, {"cni0"}}, get).empty())
        << "no ip rule routes by the marks: routing is symmetric";
    vmark["all"] = 0;
    rp["all"] = 1; // the kernel takes the larger of all and the device: prov0's 2 wins
    f = rp_filter_findings(scope, get);
    ASSERT_EQ(f.size(), 1u) << "lo does not matter: the host reaches published ports at the socket";
    EXPECT_NE(f[0].what.find("on vpn0"), std::string::npos);
    EXPECT_EQ(rp_filter_findings(RpFilterScope{}, get).size(), 0u);
}

} // namespace
} // namespace fp

// What operators type for policies (labels, conflists, the command line): the items that
// parse and what they mean, the ones refused and why, and the rules' round trip through
// the map's form.
#include <gtest/gtest.h>

#include "error.hpp"
#include "policy.hpp"

namespace fp {
namespace {

std::string item(const char *text, fp_policy_dir dir = FP_POLICY_OUT)
{
    return parse_policy_item(text, dir, FP_POLICY_ALLOW).describe();
}

TEST(PolicyItems, WhatEachFormMeans)
{
    EXPECT_EQ(item("10.0.0.0/8:443/tcp"), "allow out tcp to 10.0.0.0/8 port 443");
    EXPECT_EQ(item("10.0.0.0/8:443"), "allow out tcp to 10.0.0.0/8 port 443");
    EXPECT_EQ(item("10.0.0.0/8:53/udp"), "allow out udp to 10.0.0.0/8 port 53");
    EXPECT_EQ(item("192.0.2.7"), "allow out to 192.0.2.7/32");
    EXPECT_EQ(item("*:8000-8100/udp"), "allow out udp to any port 8000-8100");
    EXPECT_EQ(item("10.0.0.0/8:icmp"), "allow out icmp to 10.0.0.0/8");
    EXPECT_EQ(item("[fd00::/64]:443/tcp"), "allow out tcp to fd00::/64 port 443");
    EXPECT_EQ(item("[fd00::7]"), "allow out to fd00::7/128");
    EXPECT_EQ(item("*:22", FP_POLICY_IN), "allow in tcp from any port 22");
}

TEST(PolicyItems, RefusedNamingTheItem)
{
    for (const char *bad : {"", "10.0.0.0/33", "10.0.0.1/8", "10.0.0.0/8:", "10.0.0.0/8:0", "10.0.0.0/8:70000",
                            "10.0.0.0/8:80/sctp", "10.0.0.0/8:80/icmp", "fd00::1:80", "[fd00::1", "[fd00::1]x",
                            ":80", "host.example:80", "10.0.0.0/8:90-80"}) {
        SCOPED_TRACE(bad);
        try {
            parse_policy_item(bad, FP_POLICY_OUT, FP_POLICY_ALLOW);
            ADD_FAILURE() << "accepted";
        } catch (const Error &e) {
            EXPECT_NE(std::string(e.what()).find("policy item '" + std::string(bad) + "'"), std::string::npos)
                << e.what();
        }
    }
    EXPECT_THROW(parse_policy_list("10.0.0.0/8,,1.1.1.1", FP_POLICY_OUT, FP_POLICY_ALLOW), Error);
    EXPECT_THROW(parse_policy_list("10.0.0.0/8:443,10.0.0.0/8:443/tcp", FP_POLICY_OUT, FP_POLICY_ALLOW), Error)
        << "the same rule twice";
}

// The map holds masks, not lengths: every rule comes back from it as it went in.
TEST(PolicyItems, RulesRoundTripThroughTheMapForm)
{
    for (const char *text : {"10.0.0.0/8:443/tcp", "192.0.2.7", "*:53/udp", "[fd00::/64]:80-90/tcp", "0.0.0.0/0",
                             "[::/0]", "10.1.2.0/23:icmp"}) {
        SCOPED_TRACE(text);
        for (fp_policy_dir dir : {FP_POLICY_IN, FP_POLICY_OUT}) {
            const PolicyRule r = parse_policy_item(text, dir, FP_POLICY_DENY);
            EXPECT_EQ(PolicyRule::from_raw(r.raw()), r);
        }
    }
}

TEST(PolicyItems, APolicyHoldsAtMostItsRulesOnce)
{
    EndpointPolicy p;
    for (int i = 0; i < FP_MAX_POLICY_RULES; ++i)
        p.rules.push_back(parse_policy_item("*:" + std::to_string(1000 + i), FP_POLICY_OUT, FP_POLICY_ALLOW));
    EXPECT_NO_THROW(p.validate());
    EXPECT_EQ(p.summary(), "in allow, out allow +64");
    p.rules.push_back(parse_policy_item("*:999", FP_POLICY_OUT, FP_POLICY_ALLOW));
    EXPECT_THROW(p.validate(), Error);
    p.rules.resize(2);
    p.rules[1] = p.rules[0];
    EXPECT_THROW(p.validate(), Error);
}

} // namespace
} // namespace fp

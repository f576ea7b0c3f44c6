// The daemon's label policy: which containers it takes, which DNAT entries and mark
// rules their labels and published ports ask for, and what it refuses (and why).
#include <gtest/gtest.h>

#include "container_plan.hpp"

namespace fp {
namespace {

ContainerInfo container(std::map<std::string, std::string> labels)
{
    ContainerInfo c;
    c.id = std::string(64, 'a');
    c.name = "web";
    c.labels = std::move(labels);
    c.networks["podman"] = {"10.88.0.5", "02:42:0a:58:00:05"};
    c.networks["backend"] = {"10.89.0.7", "02:42:0a:59:00:07"};
    c.published = {{8080, 80, 6}, {8443, 443, 6}, {5353, 53, 17}};
    c.running = true;
    return c;
}

LabelPolicy marking()
{
    LabelPolicy p;
    p.published_port_mark = MarkValue{0x10, 0xff};
    return p;
}

TEST(ContainerPlan, OnlyTrueSelects)
{
    EXPECT_TRUE(selected(container({{"network.enable", "true"}}), LabelPolicy{}));
    EXPECT_FALSE(selected(container({{"network.enable", "yes"}}), LabelPolicy{}));
    EXPECT_FALSE(selected(container({}), LabelPolicy{}));
    LabelPolicy other;
    other.enable_label = "fast.path";
    EXPECT_TRUE(selected(container({{"fast.path", "true"}}), other));
    const ContainerPlan p = plan_container(container({{"network.dnat.ports", "80"}}), marking());
    EXPECT_TRUE(p.addresses.empty() && p.dnat.empty() && p.marks.empty() && p.problems.empty());
}

// Ports in the label are published on every host address to the same ports of the
// container's address on the first watched network (by name); tcp unless given.
TEST(ContainerPlan, DnatPortsFromTheLabel)
{
    const ContainerPlan p =
        plan_container(container({{"network.enable", "true"}, {"network.dnat.ports", "80,53/udp,8000-8010"}}), LabelPolicy{});
    ASSERT_EQ(p.addresses.size(), 2u);
    EXPECT_EQ(p.addresses[0].network, "backend");
    const IpAddr backend = IpAddr::parse("10.89.0.7");
    ASSERT_EQ(p.dnat.size(), 3u);
    EXPECT_EQ(p.dnat[0], (DnatRule{IpAddr::parse("0.0.0.0"), 6, {80, 80}, backend, {80, 80}}));
    EXPECT_EQ(p.dnat[1], (DnatRule{IpAddr::parse("0.0.0.0"), 17, {53, 53}, backend, {53, 53}}));
    EXPECT_EQ(p.dnat[2], (DnatRule{IpAddr::parse("0.0.0.0"), 6, {8000, 8010}, backend, {8000, 8010}}));
    EXPECT_TRUE(p.marks.empty()) << "no mark unless --mark-published-ports";
    EXPECT_TRUE(p.problems.empty());
}

// A dual-stack container: each family's host addresses go to its address of that family;
// both addresses are endpoints and both get the marks.
TEST(ContainerPlan, BothFamilies)
{
    ContainerInfo c = container({{"network.enable", "true"}, {"network.dnat.ports", "80"}});
    c.networks["podman"].ip6 = "fd88::5";
    const ContainerPlan p = plan_container(c, marking());
    ASSERT_EQ(p.addresses.size(), 3u);
    EXPECT_EQ(p.addresses[2], (PlannedAddress{IpAddr::parse("fd88::5"), MacAddr::parse("02:42:0a:58:00:05"), "podman"}));
    ASSERT_EQ(p.dnat.size(), 2u);
    EXPECT_EQ(p.dnat[0].backend, IpAddr::parse("10.89.0.7"));
    EXPECT_EQ(p.dnat[1], (DnatRule{IpAddr::parse("::"), 6, {80, 80}, IpAddr::parse("fd88::5"), {80, 80}}));
    EXPECT_EQ(p.marks.size(), 6u) << "443/tcp and 53/udp on three addresses";
    c.networks["podman"].ip6 = "10.0.0.1";
    EXPECT_EQ(plan_container(c, marking()).problems.size(), 1u) << "an IPv4 address as GlobalIPv6Address";
}

TEST(ContainerPlan, WatchNetworkNarrowsAddresses)
{
    LabelPolicy p;
    p.watch_network = "podman";
    const ContainerPlan plan = plan_container(container({{"network.enable", "true"}, {"network.dnat.ports", "80"}}), p);
    ASSERT_EQ(plan.addresses.size(), 1u);
    EXPECT_EQ(plan.addresses[0], (PlannedAddress{IpAddr::parse("10.88.0.5"), MacAddr::parse("02:42:0a:58:00:05"), "podman"}));
    EXPECT_EQ(plan.dnat.at(0).backend, IpAddr::parse("10.88.0.5"));
    p.watch_network = "elsewhere";
    const ContainerPlan none = plan_container(container({{"network.enable", "true"}}), p);
    EXPECT_TRUE(none.addresses.empty());
    ASSERT_EQ(none.problems.size(), 1u);
    EXPECT_EQ(none.problems[0], "no address on network elsewhere");
}

// Published container ports not in the DNAT label get the mark, on each address, once.
TEST(ContainerPlan, MarksForPublishedPortsNotInTheLabel)
{
    ContainerInfo c = container({{"network.enable", "true"}, {"network.dnat.ports", "80,50-60/udp"}});
    c.published.push_back({8081, 443, 6}); // one container port published twice
    const ContainerPlan p = plan_container(c, marking());
    ASSERT_EQ(p.marks.size(), 2u) << "443/tcp on two addresses; 80/tcp and 53/udp are in the label";
    for (const MarkRule &m : p.marks) {
        EXPECT_EQ(m.port, 443);
        EXPECT_EQ(m.proto, 6);
        EXPECT_EQ(m.match, FP_MARK_SOURCE);
        EXPECT_EQ(m.mark, (MarkValue{0x10, 0xff}));
    }
    EXPECT_NE(p.marks[0].addr, p.marks[1].addr);
}

// A bad label is reported by name and costs only what it names: addresses and marks
// still hold.
TEST(ContainerPlan, BadLabelIsAProblemNotAFailure)
{
    const ContainerPlan p =
        plan_container(container({{"network.enable", "true"}, {"network.dnat.ports", "80,http"}}), marking());
    ASSERT_EQ(p.problems.size(), 1u);
    EXPECT_NE(p.problems[0].find("label network.dnat.ports=80,http: "), std::string::npos) << p.problems[0];
    EXPECT_TRUE(p.dnat.empty());
    EXPECT_EQ(p.addresses.size(), 2u);
    EXPECT_EQ(p.marks.size(), 6u) << "every published port is marked when the list is unusable";

    ContainerInfo broken = container({{"network.enable", "true"}});
    broken.networks["podman"].mac = "not-a-mac";
    broken.networks["v6only"] = {"fd00::5", "02:00:00:00:00:05"};
    const ContainerPlan q = plan_container(broken, LabelPolicy{});
    EXPECT_EQ(q.addresses.size(), 1u);
    EXPECT_EQ(q.problems.size(), 2u);
}

// The policy labels make the container's firewall: a labelled direction allows only its
// list (an empty one or "none": nothing), the other allows everything; without either
// label there is none. A list that does not parse is a problem, and that direction then
// allows nothing (closed), the other keeps its own.
TEST(ContainerPlan, PolicyLabelsMakeTheFirewall)
{
    const auto plan = [](std::map<std::string, std::string> labels) {
        labels["network.enable"] = "true";
        return plan_container(container(std::move(labels)), LabelPolicy{});
    };
    EXPECT_FALSE(plan({}).firewall.has_value());

    ContainerPlan p = plan({{"network.policy.egress", "10.0.0.0/8:443/tcp,1.1.1.1:53/udp"}});
    ASSERT_TRUE(p.firewall.has_value());
    EXPECT_EQ(p.firewall->defaults[FP_POLICY_OUT], FP_POLICY_DENY);
    EXPECT_EQ(p.firewall->defaults[FP_POLICY_IN], FP_POLICY_ALLOW);
    ASSERT_EQ(p.firewall->rules.size(), 2u);
    EXPECT_EQ(p.firewall->rules[0].describe(), "allow out tcp to 10.0.0.0/8 port 443");
    EXPECT_EQ(p.firewall->rules[1].describe(), "allow out udp to 1.1.1.1/32 port 53");
    EXPECT_TRUE(p.problems.empty());

    p = plan({{"network.policy.ingress", "none"}, {"network.policy.egress", "*:80"}});
    ASSERT_TRUE(p.firewall.has_value());
    EXPECT_EQ(p.firewall->defaults[FP_POLICY_IN], FP_POLICY_DENY);
    ASSERT_EQ(p.firewall->rules.size(), 1u);
    EXPECT_EQ(p.firewall->rules[0].describe(), "allow out tcp to any port 80");

    p = plan({{"network.policy.egress", "10.0.0.0/8:443/tcp,10.0.0.0/33"}, {"network.policy.ingress", "*:22"}});
    ASSERT_EQ(p.problems.size(), 1u);
    EXPECT_NE(p.problems[0].find("10.0.0.0/33"), std::string::npos) << p.problems[0];
    EXPECT_NE(p.problems[0].find("nothing is allowed out"), std::string::npos) << p.problems[0];
    ASSERT_TRUE(p.firewall.has_value());
    EXPECT_EQ(p.firewall->defaults[FP_POLICY_OUT], FP_POLICY_DENY);
    ASSERT_EQ(p.firewall->rules.size(), 1u) << "only the ingress label's";
    EXPECT_EQ(p.firewall->rules[0].dir, FP_POLICY_IN);

    LabelPolicy renamed;
    renamed.policy_egress_label = "fw.out";
    p = plan_container(container({{"network.enable", "true"}, {"fw.out", "none"}}), renamed);
    ASSERT_TRUE(p.firewall.has_value());
    EXPECT_EQ(p.firewall->defaults[FP_POLICY_OUT], FP_POLICY_DENY);
}

} // namespace
} // namespace fp

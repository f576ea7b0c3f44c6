// `flatpath policy` on real traffic in the demo's topology (containers c1 and c2 on the
// fast path, the host, a LAN client behind the uplink): an allow-listed container reaches
// only what it may (TCP, UDP, ping; IPv4 and IPv6) and its flows' replies come back; what
// others start to a container that accepts only one port is dropped, whether the fast path
// delivers it (another container, the LAN through a published port) or the host stack
// sends it (the host's own connections); denials are counted as drop_policy; a change cuts
// off a flow that is already running; the listing shows the policy; wrong arguments are
// refused with one line and change nothing; an endpoint's removal takes its policy with it.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "background_process.hpp"
#include "demo.hpp"
#include "eventually.hpp"
#include "netns_fixture.hpp"
#include "traffic.hpp"

namespace fp::test {
namespace {

class PolicyNetnsTest : public NetnsTest {
protected:
    const IpAddr host4 = IpAddr::parse("10.90.0.1");

    void policy(const std::vector<std::string> &args)
    {
        std::vector<std::string> a = {"policy"};
        a.insert(a.end(), args.begin(), args.end());
        flatpath(a);
    }
    nlohmann::json policy_list() { return flatpath_json({"policy", "list", "--json"}); }
};

// c1 may start only TCP to c2:7001 (IPv4 and IPv6), UDP to c2:7002 and pings to c2's
// IPv4 address: those work, replies included; UDP to another port, a ping over IPv6 and
// anything to the LAN are dropped (counted as drop_policy, nothing arrives). c2, with no
// policy, still reaches c1.
TEST_F(PolicyNetnsTest, AnAllowListedContainerReachesOnlyWhatItMay)
{
    start();
    const std::string c1dev = c1().host_if;
    policy({"default", c1dev, "deny", "--out"});
    policy({"add", c1dev, "--allow", "--cidr", c2().v4.str(), "--port", "7001"});
    policy({"add", c1dev, "--allow", "--cidr", c2().v6.str(), "--proto", "tcp", "--port", "7001"});
    policy({"add", c1dev, "--allow", "--cidr", c2().v4.str(), "--proto", "udp", "--port", "7002"});
    policy({"add", c1dev, "--allow", "--cidr", c2().v4.str(), "--proto", "icmp"});

    for (const IpAddr *dst : {&c2().v4, &c2().v6}) {
        const Received tcp = tcp_transfer(c2().ns, *dst, 7001, c1().ns, 1 << 20);
        EXPECT_EQ(tcp.bytes, 1u << 20) << dst->str();
    }
    EXPECT_EQ(udp_send(c2().ns, c2().v4, 7002, c1().ns, 20).messages, 20u);
    EXPECT_EQ(ping(c1().ns, c2().v4.str(), 2), 2u);

    const std::uint64_t denied = reason_count("drop_policy");
    EXPECT_EQ(udp_send(c2().ns, c2().v4, 7003, c1().ns, 20).messages, 0u);
    EXPECT_EQ(ping(c1().ns, c2().v6.str(), 2), 0u);
    EXPECT_EQ(udp_send(topo->lan_ns(), topo->lan_v4(), 7004, c1().ns, 5).messages, 0u);
    EXPECT_GE(reason_count("drop_policy") - denied, 20u + 2u + 5u);

    EXPECT_EQ(tcp_transfer(c1().ns, c1().v4, 7005, c2().ns, 1 << 16).bytes, 1u << 16) << "c1 accepts (in: allow)";
}

// c1 accepts only TCP to its port 7001: from c2 (delivered by the fast path), from the
// host itself (the stack sends it: c1's tc egress checks it) and from the LAN through a
// published port (checked translated, as it arrives); UDP to c1 is dropped on each of
// those paths. c1's own flows out (default allow) get their replies.
TEST_F(PolicyNetnsTest, AContainerAcceptsOnlyWhatItsPolicyAllowsOnEveryPath)
{
    start();
    const std::string c1dev = c1().host_if;
    policy({"default", c1dev, "deny", "--in"});
    policy({"add", c1dev, "--allow", "--in", "--proto", "tcp", "--port", "7001"});
    flatpath({"dnat", "add", "tcp", "8080", c1().v4.str() + ":7001", "--host-ip", host4.str()});
    flatpath({"dnat", "add", "udp", "8081", c1().v4.str() + ":7002", "--host-ip", host4.str()});

    EXPECT_EQ(tcp_transfer(c1().ns, c1().v4, 7001, c2().ns, 1 << 20).bytes, 1u << 20) << "from c2";
    EXPECT_EQ(tcp_transfer(c1().ns, c1().v4, 7001, topo->host_ns(), 1 << 20).bytes, 1u << 20) << "from the host";
    EXPECT_EQ(tcp_transfer(c1().ns, c1().v6, 7001, topo->host_ns(), 1 << 16).bytes, 1u << 16) << "from the host, v6";
    EXPECT_EQ(tcp_transfer(c1().ns, {c1().v4, 7001}, topo->lan_ns(), {host4, 8080}, 1 << 20).bytes, 1u << 20)
        << "from the LAN, published";

    const std::uint64_t denied = reason_count("drop_policy");
    EXPECT_EQ(udp_send(c1().ns, c1().v4, 7002, c2().ns, 10).messages, 0u) << "from c2";
    EXPECT_EQ(udp_send(c1().ns, c1().v4, 7002, topo->host_ns(), 10).messages, 0u) << "from the host";
    EXPECT_EQ(udp_send(c1().ns, {c1().v4, 7002}, topo->lan_ns(), {host4, 8081}, 10).messages, 0u) << "from the LAN";
    EXPECT_GE(reason_count("drop_policy") - denied, 30u);

    EXPECT_EQ(ping(c1().ns, c2().v4.str(), 2), 2u) << "c1's own pings are answered";
    EXPECT_EQ(ping(c1().ns, host4.str(), 2), 2u) << "and the host's answers come through the stack";
}

// A change applies to new flows at once and to existing ones at their next packet: c1 pings
// c2 thirty times (one echo identifier: one flow); a second in, c1 is denied c2. The ping
// stops being answered part-way (some replies came, not all), and a new ping gets none.
// Allowed again, a new ping is answered.
TEST_F(PolicyNetnsTest, AChangeAppliesToFlowsThatAreAlreadyRunning)
{
    start();
    const std::string c1dev = c1().host_if;
    policy({"add", c1dev, "--deny", "--cidr", "192.0.2.0/24"}); // a policy: c1's flows are tracked
    char path[] = "/tmp/fp-ping-XXXXXX";
    const int fd = ::mkstemp(path);
    ASSERT_GE(fd, 0);
    ::close(fd);
    {
        BackgroundProcess running({"ip", "netns", "exec", c1().ns, "ping", "-n", "-q", "-c", "30", "-i", "0.1", "-W", "1",
                                   c2().v4.str()},
                                  path);
        std::this_thread::sleep_for(std::chrono::seconds(1));
        policy({"add", c1dev, "--deny", "--cidr", c2().v4.str()});
        ASSERT_TRUE(eventually([&] { return !running.running(); }, 15));
    }
    std::ifstream in(path);
    const std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::filesystem::remove(path);
    std::smatch m;
    ASSERT_TRUE(std::regex_search(out, m, std::regex(R"((\d+) received)"))) << out;
    const unsigned answered = static_cast<unsigned>(std::stoul(m[1]));
    EXPECT_GT(answered, 0u) << out;
    EXPECT_LT(answered, 30u) << "the running ping was cut off: " << out;
    EXPECT_EQ(ping(c1().ns, c2().v4.str(), 2), 0u);
    policy({"del", c1dev, "--deny", "--cidr", c2().v4.str()});
    EXPECT_EQ(ping(c1().ns, c2().v4.str(), 2), 2u);
}

// The listing shows each direction's default and the rules; wrong arguments are refused
// with one line and leave the policy as it was; `del --all` removes it, and deleting the
// endpoint takes its policy with it.
TEST_F(PolicyNetnsTest, TheCommandLineListsRefusesAndCleansUp)
{
    start();
    const std::string c1dev = c1().host_if;
    policy({"add", c1().v4.str(), "--deny", "--cidr", "192.0.2.0/24"});
    const nlohmann::json list = policy_list();
    ASSERT_EQ(list.size(), 3u) << list.dump(); // in default, out default, the rule
    EXPECT_EQ(list[2]["device"], c1dev);
    EXPECT_EQ(list[2]["action"], "deny");
    EXPECT_EQ(list[2]["direction"], "out");
    EXPECT_EQ(list[2]["peer"], "192.0.2.0/24");
    EXPECT_EQ(list[2]["proto"], "any");

    const auto state = [&] { return policy_list().dump(); };
    expect_refused_keeping({"policy", "add", c1dev, "--allow", "--deny"}, "give --allow or --deny", state);
    expect_refused_keeping({"policy", "add", c1dev, "--allow", "--proto", "icmp", "--port", "80"},
                           "ports need the protocol tcp or udp", state);
    expect_refused_keeping({"policy", "add", c1dev, "--allow", "--in", "--out"}, "not both", state);
    expect_refused_keeping({"policy", "add", "10.91.0.99", "--allow"}, "is no endpoint of this host", state);
    expect_refused_keeping({"policy", "add", topo->uplink(), "--allow"}, "is no endpoint's device", state);
    expect_refused_keeping({"policy", "add", c1dev, "--deny", "--cidr", "192.0.2.0/24"}, "already", state);
    expect_refused_keeping({"policy", "del", c1dev, "--allow", "--cidr", "192.0.2.0/24"}, "has no rule", state);
    expect_refused_keeping({"policy", "add", c1dev, "--allow", "--cidr", "192.0.2.1/24"}, "192.0.2.1/24", state);
    expect_refused_keeping({"policy", "default", c1dev, "block"}, "no policy action", state);
    expect_refused_keeping({"policy", "del", c1dev, "--all", "--deny"}, "give no rule with it", state);

    policy({"del", c1dev, "--all"});
    EXPECT_TRUE(policy_list().empty());
    policy({"default", c2().host_if, "deny", "--in"});
    ASSERT_EQ(policy_list().size(), 2u);
    flatpath({"endpoint", "del", c2().v4.str(), c2().v6.str()});
    EXPECT_TRUE(policy_list().empty()) << "the endpoint's policy went with it";
}

} // namespace
} // namespace fp::test

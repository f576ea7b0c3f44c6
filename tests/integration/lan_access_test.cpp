// Flat LAN access ("lanUplink"): containers take addresses from the LAN's own subnet and
// their host answers ARP and neighbour solicitations for them on the uplink, so a LAN
// client with nothing but its on-link route reaches them by address, with no NAT and no
// route added anywhere. Two hosts on one LAN (namespaces h1, h2 and a client on a bridge
// in namespace sw, 192.168.60.0/24 and fd60::/64), a container on each from its own range.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>

#include "command.hpp"
#include "lab.hpp"
#include "traffic.hpp"

namespace fp::test {
namespace {

struct LanHost {
    std::string ns, state, pin_root;
    int first; // 100 or 200: its IPv6 range is fd60::FIRST-FIRST+99
};

class LanAccessTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        lab = std::make_unique<Lab>("lan");
        sw = lab->add_netns("sw");
        lab->in(sw, {"ip", "link", "add", "br0", "type", "bridge"});
        lab->in(sw, {"ip", "link", "set", "br0", "up"});
        client = lab->add_netns("client");
        wire(client, 50);
        char tmpl[] = "/tmp/flatpath-lan-test.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir = tmpl;
        for (int n : {1, 2}) {
            LanHost h{lab->add_netns("h" + std::to_string(n)), dir + "/h" + std::to_string(n),
                      std::filesystem::path(lab->pin_root()).parent_path() / ("h" + std::to_string(n)), n * 100};
            wire(h.ns, n);
            hosts.push_back(h);
        }
    }
    void TearDown() override
    {
        lab.reset();
        if (!dir.empty())
            std::filesystem::remove_all(dir);
    }

    void wire(const std::string &ns, int n)
    {
        const std::string hex = (n < 10 ? "0" : "") + std::to_string(n);
        lab->add_veth(ns, "eth0", MacAddr::parse("02:60:00:00:00:" + hex), sw, "p" + hex, MacAddr::parse("02:60:00:00:01:" + hex));
        lab->in(sw, {"ip", "link", "set", "p" + hex, "master", "br0"});
        lab->in(ns, {"ip", "addr", "add", "192.168.60." + std::to_string(n) + "/24", "dev", "eth0"});
        lab->in(ns, {"ip", "addr", "add", "fd60::" + std::to_string(n) + "/64", "dev", "eth0", "nodad"});
    }
    nlohmann::json config(const LanHost &h, int first4, int last4) const
    {
        return {{"cniVersion", "1.0.0"},
                {"name", "lan"},
                {"type", "flatpath-cni"},
                {"lanUplink", "eth0"},
                {"ranges",
                 {{{{"subnet", "192.168.60.0/24"},
                    {"rangeStart", "192.168.60." + std::to_string(first4)},
                    {"rangeEnd", "192.168.60." + std::to_string(last4)}}},
                  {{{"subnet", "fd60::/64"},
                    {"rangeStart", "fd60::" + std::to_string(h.first)},
                    {"rangeEnd", "fd60::" + std::to_string(h.first + 99)}}}}},
                {"pinRoot", h.pin_root},
                {"stateDir", h.state}};
    }
    // h1 hands out 192.168.60.100-109, h2 .110-119.
    nlohmann::json config(const LanHost &h) const { return config(h, 90 + h.first / 10, 99 + h.first / 10); }
    CommandResult cni(const LanHost &h, const std::string &cmd, const std::string &id, const std::string &netns,
                      const nlohmann::json &cfg)
    {
        const std::string in = cfg.dump();
        return run_command({"ip", "netns", "exec", h.ns, "env", "-i", "CNI_COMMAND=" + cmd, "CNI_CONTAINERID=" + id,
                            "CNI_NETNS=/run/netns/" + netns, "CNI_IFNAME=eth0", "CNI_PATH=/usr/lib/cni", FLATPATH_CNI_BIN},
                           &in);
    }
    // ADD of a container on h: its IPv4 and IPv6 addresses.
    std::pair<IpAddr, IpAddr> add(const LanHost &h, const std::string &id, const std::string &netns)
    {
        const CommandResult r = cni(h, "ADD", id, netns, config(h));
        EXPECT_EQ(r.status, 0) << r.output;
        const auto j = nlohmann::json::parse(r.output.substr(0, r.output.find('\n')));
        const auto addr = [&](int i) {
            const std::string a = j["ips"][i]["address"];
            return IpAddr::parse(a.substr(0, a.find('/')));
        };
        return {addr(0), addr(1)};
    }
    std::string proxies(const LanHost &h) const { return lab->in(h.ns, {"ip", "neigh", "show", "proxy"}); }

    std::unique_ptr<Lab> lab;
    std::string sw, client, dir;
    std::vector<LanHost> hosts;
};

// Scenario: the LAN client, with only its on-link routes, reaches a container on each host
// by its address (TCP, UDP, ping; IPv4 and IPv6), each server seeing the client's own
// address; the containers reach each other across the hosts the same way.
TEST_F(LanAccessTest, ALanClientReachesContainersOnTwoHostsByAddress)
{
    const std::string c1 = lab->add_netns("c1"), c2 = lab->add_netns("c2");
    const auto [a1, a1v6] = add(hosts[0], "id-lan1", c1);
    const auto [a2, a2v6] = add(hosts[1], "id-lan2", c2);
    EXPECT_EQ(a1.str(), "192.168.60.100");
    EXPECT_EQ(a2.str(), "192.168.60.110");
    for (const auto &[ns, addr, from] : {std::tuple{c1, a1, IpAddr::parse("192.168.60.50")}, std::tuple{c2, a2, IpAddr::parse("192.168.60.50")},
                                         std::tuple{c1, a1v6, IpAddr::parse("fd60::50")}, std::tuple{c2, a2v6, IpAddr::parse("fd60::50")}}) {
        SCOPED_TRACE(addr.str());
        lab->in(client, {"ping", "-c", "1", "-W", "3", addr.str()});
        const Received tcp = tcp_transfer(ns, addr, 5001, client, 1 << 18);
        EXPECT_EQ(tcp.bytes, 1u << 18);
        EXPECT_EQ(tcp.peer, from.str());
        const Received udp = udp_send(ns, addr, 5002, client, 20);
        EXPECT_EQ(udp.messages, 20u);
        EXPECT_EQ(udp.peer, from.str());
    }
    const Received across = tcp_transfer(c2, a2, 5003, c1, 1 << 18);
    EXPECT_EQ(across.bytes, 1u << 18);
    EXPECT_EQ(across.peer, a1.str()) << "container to container across hosts, no NAT";
    EXPECT_EQ(lab->in(client, {"ip", "route"}).find("via"), std::string::npos) << "the client has no route but its LAN's";
    // What the LAN sent the containers was delivered by each host's uplink program.
    for (const LanHost &h : hosts) {
        const auto stats = nlohmann::json::parse(run_checked({"ip", "netns", "exec", h.ns, FLATPATH_BIN, "--pin-root",
                                                              h.pin_root, "stats", "--json"}));
        ASSERT_EQ(stats["endpoints"].size(), 1u) << stats.dump();
        EXPECT_GE(stats["endpoints"][0]["to_bytes"].get<std::uint64_t>(), 2u << 18) << stats.dump();
    }
}

// Scenario: nothing answers for an address of the range no container has; after DEL the
// container's address is not answered for any more and no proxy entry is left.
TEST_F(LanAccessTest, NothingAnswersForAnAddressNoContainerHas)
{
    const std::string c1 = lab->add_netns("c1");
    const auto [a1, a1v6] = add(hosts[0], "id-lan1", c1);
    EXPECT_NE(run_command({"ip", "netns", "exec", client, "ping", "-c", "1", "-W", "2", "192.168.60.105"}).status, 0);
    EXPECT_EQ(lab->in(client, {"ip", "neigh", "show", "192.168.60.105"}).find("lladdr"), std::string::npos);
    EXPECT_NE(proxies(hosts[0]).find(a1.str()), std::string::npos);
    const CommandResult del = cni(hosts[0], "DEL", "id-lan1", c1, config(hosts[0]));
    EXPECT_EQ(del.status, 0) << del.output;
    EXPECT_EQ(proxies(hosts[0]), "") << "proxy entries left behind";
    lab->in(client, {"ip", "neigh", "flush", "dev", "eth0"});
    EXPECT_NE(run_command({"ip", "netns", "exec", client, "ping", "-c", "1", "-W", "2", a1.str()}).status, 0);
}

// Scenario: `flatpath network create --lan-subnet` writes such a network (the uplink's LAN
// subnet found from its link, the ranges, the uplink attached); a container added with it
// answers the LAN client. A range on no subnet of the uplink's link is refused.
TEST_F(LanAccessTest, NetworkCreateWritesALanNetwork)
{
    const LanHost &h = hosts[0];
    const std::string confdir = dir + "/net.d";
    const auto flatpath = [&](const std::vector<std::string> &args) {
        std::vector<std::string> argv = {"ip", "netns", "exec", h.ns, FLATPATH_BIN, "--pin-root", h.pin_root, "network",
                                         "--config-dir", confdir};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_command(argv);
    };
    const CommandResult made = flatpath({"create", "lanet", "--state-dir", h.state, "--lan-subnet",
                                         "eth0:192.168.60.120-192.168.60.129", "--lan-subnet", "eth0:fd60::120-fd60::129"});
    ASSERT_EQ(made.status, 0) << made.output;
    std::ifstream in(confdir + "/lanet.conflist");
    const auto list = nlohmann::json::parse(in);
    nlohmann::json cfg = list["plugins"][0];
    EXPECT_EQ(cfg["lanUplink"], "eth0");
    EXPECT_EQ(cfg["ranges"][0][0]["subnet"], "192.168.60.0/24");
    EXPECT_EQ(cfg["ranges"][1][0]["rangeEnd"], "fd60::129");
    EXPECT_FALSE(cfg.contains("ipMasq"));
    cfg["cniVersion"] = list["cniVersion"];
    cfg["name"] = list["name"];
    const std::string c1 = lab->add_netns("c1");
    const CommandResult r = cni(h, "ADD", "id-made", c1, cfg);
    ASSERT_EQ(r.status, 0) << r.output;
    lab->in(client, {"ping", "-c", "1", "-W", "3", "192.168.60.120"});
    const CommandResult bad = flatpath({"create", "lanbad", "--lan-subnet", "eth0:10.9.0.1-10.9.0.5"});
    EXPECT_NE(bad.status, 0);
    EXPECT_NE(bad.output.find("no subnet on eth0's link holds 10.9.0.1-10.9.0.5"), std::string::npos) << bad.output;
    EXPECT_FALSE(std::filesystem::exists(confdir + "/lanbad.conflist"));
}

// Scenario: a range outside the uplink's subnet, one holding the host's own address and an
// unknown uplink are refused (code 7) with nothing left behind.
TEST_F(LanAccessTest, BadLanConfigsAreRefused)
{
    const std::string c1 = lab->add_netns("c1");
    nlohmann::json outside = config(hosts[0]);
    outside["ranges"][0][0] = {{"subnet", "10.9.0.0/24"}};
    nlohmann::json own = config(hosts[0], 1, 9);
    nlohmann::json nodev = config(hosts[0]);
    nodev["lanUplink"] = "nosuch0";
    for (const auto &[cfg, said] : {std::pair{outside, "has no address in 10.9.0.0/24"}, std::pair{own, "own address 192.168.60.1"},
                                    std::pair{nodev, "nosuch0 is no interface"}}) {
        const CommandResult r = cni(hosts[0], "ADD", "id-bad", c1, cfg);
        EXPECT_NE(r.status, 0);
        EXPECT_NE(r.output.find(said), std::string::npos) << r.output;
        EXPECT_NE(r.output.find("\"code\":7"), std::string::npos) << r.output;
    }
    EXPECT_EQ(proxies(hosts[0]), "");
    EXPECT_EQ(lab->in(hosts[0].ns, {"ip", "-br", "link"}).find("fp"), std::string::npos) << "a veth left behind";
}

} // namespace
} // namespace fp::test

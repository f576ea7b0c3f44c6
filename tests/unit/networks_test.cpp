// `flatpath network create|rm|ls` on a CNI configuration directory of its own: what it
// writes, which subnets it picks and refuses, and what it leaves alone.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "cni_error_code.hpp"
#include "net_config.hpp"
#include "networks.hpp"
#include "temp_dir.hpp"

namespace fp::cni {
namespace {

namespace fs = std::filesystem;

class NetworksTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        // What Podman writes for `podman network create web --subnet 10.90.0.0/24`, and
        // a file Podman would skip.
        std::ofstream(dir + "/web.conflist") << R"({"cniVersion": "0.4.0", "name": "web", "plugins": [
            {"type": "bridge", "bridge": "cni-podman1", "ipam": {"type": "host-local",
             "ranges": [[{"subnet": "10.90.0.0/24", "gateway": "10.90.0.1"}]]}},
            {"type": "portmap", "capabilities": {"portMappings": true}}]})";
        std::ofstream(dir + "/broken.conflist") << "{ not json";
    }
    // Every file of the directory with its contents.
    std::string files() const
    {
        std::set<std::string> each;
        for (const auto &e : fs::directory_iterator(dir)) {
            std::ifstream in(e.path());
            each.insert(e.path().string() + ":" + std::string(std::istreambuf_iterator<char>(in), {}));
        }
        std::string out;
        for (const std::string &f : each)
            out += f + "\n";
        return out;
    }
    NetworkFile network(const std::string &name)
    {
        for (const NetworkFile &n : read_networks(dir))
            if (n.name == name)
                return n;
        ADD_FAILURE() << "no network " << name;
        return {};
    }
    const test::TempDir temp{"networks-test"};
    const std::string dir = temp.path();
    const std::vector<AddressUser> no_host;
};

TEST(Subnet, Overlaps)
{
    const Subnet a = Subnet::parse("10.90.0.0/16");
    EXPECT_TRUE(a.overlaps(Subnet::parse("10.90.7.0/24")));
    EXPECT_TRUE(Subnet::parse("10.90.7.0/24").overlaps(a));
    EXPECT_FALSE(a.overlaps(Subnet::parse("10.91.0.0/24")));
    EXPECT_FALSE(a.overlaps(Subnet::parse("fd90::/64"))) << "families never overlap";
    EXPECT_TRUE(Subnet::parse("fd90::/48").overlaps(Subnet::parse("fd90:0:0:3::/64")));
    EXPECT_EQ(code_of([] { Subnet::parse("10.90.0.1/24"); }), 7) << "host bits";
}

TEST_F(NetworksTest, CreatePicksAFreeSubnetAndWritesWhatThePluginReads)
{
    std::vector<std::string> skipped;
    ASSERT_EQ(read_networks(dir, &skipped).size(), 1u);
    EXPECT_EQ(skipped, std::vector<std::string>{dir + "/broken.conflist"});

    const std::string path = create_network(dir, {"fast", {}, true, false, {"eth0"}}, no_host);
    EXPECT_EQ(path, dir + "/fast.conflist");
    const NetworkFile fast = network("fast");
    EXPECT_TRUE(fast.flatpath);
    ASSERT_EQ(fast.subnets.size(), 2u);
    EXPECT_EQ(fast.subnets[0].str(), "10.90.1.0/24") << "10.90.0.0/24 is web's";
    EXPECT_EQ(fast.subnets[1].str(), "fd90::/64");
    EXPECT_EQ(fast.mode, "routed");
    EXPECT_EQ(fast.uplinks, std::vector<std::string>{"eth0"});
    EXPECT_FALSE(network("web").flatpath);

    // The plugin reads it as any conflist of Podman's: the network's name, both ranges.
    std::ifstream in(path);
    const nlohmann::json conflist = nlohmann::json::parse(in);
    Request req;
    req.command = Command::Add;
    req.config = conflist["plugins"][0];
    req.config["name"] = conflist["name"];
    const NetConfig cfg = NetConfig::parse(req);
    EXPECT_EQ(cfg.name, "fast");
    ASSERT_EQ(cfg.pools.size(), 2u);
    EXPECT_EQ(cfg.pools[0].subnet(), "10.90.1.0/24");
    EXPECT_EQ(cfg.uplinks, std::vector<std::string>{"eth0"});

    const std::string second = create_network(dir, {"bridged", {}, false, true, {}}, no_host);
    const NetworkFile bridged = network("bridged");
    ASSERT_EQ(bridged.subnets.size(), 1u);
    EXPECT_EQ(bridged.subnets[0].str(), "10.90.2.0/24");
    EXPECT_EQ(bridged.mode, "bridge");
    EXPECT_EQ(bridged.bridge, "fpbr0");
    create_network(dir, {"bridged2", {}, false, true, {}}, no_host);
    EXPECT_EQ(network("bridged2").bridge, "fpbr1") << "each bridge network has a bridge of its own";
}

TEST_F(NetworksTest, WhatCreateRefusesNamesItsUserAndWritesNothing)
{
    const auto refused = [&](NetworkSpec spec, const std::vector<AddressUser> &host, const std::string &message) {
        SCOPED_TRACE(message);
        const std::string before = files();
        try {
            create_network(dir, spec, host);
            ADD_FAILURE() << "accepted";
        } catch (const CniError &e) {
            EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
        }
        EXPECT_EQ(files(), before);
    };
    refused({"other", {Subnet::parse("10.90.0.128/25")}, false, false, {}}, no_host,
            "subnet 10.90.0.128/25 overlaps 10.90.0.0/24, which network web (" + dir + "/web.conflist) uses");
    refused({"other", {Subnet::parse("10.77.0.0/16")}, false, false, {}},
            {{Subnet::parse("10.77.3.0/24"), "the route 10.77.3.0/24 dev eth1"}},
            "subnet 10.77.0.0/16 overlaps 10.77.3.0/24, which the route 10.77.3.0/24 dev eth1 uses");
    refused({"other", {Subnet::parse("10.78.0.0/24")}, false, false, {}},
            {{Subnet{IpAddr::parse("10.78.0.9"), 32}, "the host address 10.78.0.9"}},
            "which the host address 10.78.0.9 uses");
    refused({"web", {}, false, false, {}}, no_host, "a network named web exists already");
    refused({"-bad", {}, false, false, {}}, no_host, "network name '-bad' is not valid");
    refused({"two", {Subnet::parse("10.79.0.0/24"), Subnet::parse("10.80.0.0/24")}, false, false, {}}, no_host,
            "two IPv4 subnets");
    // A host route for the first free subnet moves the pick on.
    create_network(dir, {"picked", {}, false, false, {}}, {{Subnet::parse("10.90.1.0/24"), "the route"}});
    EXPECT_EQ(network("picked").subnets[0].str(), "10.90.2.0/24");
}

TEST_F(NetworksTest, RmRemovesOnlyFlatpathNetworksWithoutContainers)
{
    create_network(dir, {"fast", {}, false, false, {}}, no_host);
    EXPECT_EQ(code_of([&] { remove_network(dir, "web"); }), 7) << "Podman's network is podman network rm's";
    EXPECT_TRUE(fs::exists(dir + "/web.conflist"));
    EXPECT_EQ(code_of([&] { remove_network(dir, "nothing"); }), 7);
    EXPECT_EQ(remove_network(dir, "fast"), dir + "/fast.conflist");
    EXPECT_FALSE(fs::exists(dir + "/fast.conflist"));
    EXPECT_EQ(read_networks(dir).size(), 1u);
}

} // namespace
} // namespace fp::cni

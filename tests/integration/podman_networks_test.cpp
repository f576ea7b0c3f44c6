// Containers on several networks with real Podman 4.3.1: two flatpath networks (one in
// routed mode, one in bridge mode), and flatpath next to a CNI bridge network of the
// reference plugins (bridge + host-local + portmap, as Podman's default network), in
// both orders, at `podman run` and through `podman network connect/disconnect`.
#include <gtest/gtest.h>

#include <fstream>

#include "podman_fixture.hpp"

namespace fp::test {
namespace {

class PodmanNetworksTest : public PodmanTest {
protected:
    void SetUp() override
    {
        PodmanTest::SetUp();
        if (IsSkipped() || HasFatalFailure())
            return;
        FP_REQUIRE_TOOL(fs::exists("/usr/lib/cni/bridge") && fs::exists("/usr/lib/cni/host-local"),
                        "containernetworking-plugins");
        const nlohmann::json fpbridge = {
            {"cniVersion", "1.0.0"},
            {"name", "fpbr"},
            {"plugins",
             {{{"type", "flatpath-cni"},
               {"mode", "bridge"},
               {"bridge", "fpbr2"},
               {"subnet", "10.70.0.0/24"},
               {"pinRoot", lab->pin_root()},
               {"stateDir", dir + "/state"},
               {"capabilities", {{"portMappings", true}}}}}}};
        add_network(fpbridge);
        add_network(reference_bridge_network("brnet", "cnibr0", "10.71.0.0/24", "10.71.0.1"));
        // The LAN reaches every container network through the host.
        for (const char *net : {"10.66.0.0/24", "10.70.0.0/24", "10.71.0.0/24"})
            lab->in(lan, {"ip", "route", "add", net, "via", "10.65.0.1"});
    }

    std::vector<std::string> run_on(const std::string &name, const std::vector<std::string> &networks,
                                    const std::vector<std::string> &extra = {})
    {
        std::vector<std::string> a = {"run", "-d", "--name", name};
        for (const std::string &n : networks)
            a.insert(a.end(), {"--network", n});
        a.insert(a.end(), extra.begin(), extra.end());
        a.insert(a.end(), {"--rootfs", dir + "/rootfs", "httpd", "-f", "-vv", "-p", "80", "-h", "/www"});
        return a;
    }
    std::string address_on(const std::string &name, const std::string &network)
    {
        return inspect(name, "{{(index .NetworkSettings.Networks \"" + network + "\").IPAddress}}");
    }
    bool pings(const std::string &from_ns, const std::string &addr)
    {
        return run_command({"ip", "netns", "exec", from_ns, "ping", "-c", "1", "-W", "2", addr}).status == 0;
    }
    bool pings_from_container(const std::string &name, const std::string &addr)
    {
        return run_command(podman_argv({"exec", name, "ping", "-c", "1", "-W", "2", addr})).status == 0;
    }
    // Which backend holds tcp *:port in flatpath's table, "" for none.
    std::string backend_of(int port)
    {
        const std::string out = lab->in(host, {"sh", "-c", std::string(FLATPATH_BIN) + " --pin-root " + lab->pin_root() +
                                                                 " dnat list --json"});
        for (const auto &r : nlohmann::json::parse(out))
            if (r["ports"] == std::to_string(port) && r["proto"] == "tcp")
                return r["backend"].get<std::string>() + ":" + r["backend_ports"].get<std::string>();
        return "";
    }
    // Every address of the container answers from the host, the LAN and a container of
    // its own network, and the published port answers the LAN with the client's address.
    void expect_reachable(const std::string &name, const std::vector<std::pair<std::string, std::string>> &nets,
                          int port)
    {
        for (const auto &[net, peer] : nets) {
            SCOPED_TRACE(net);
            const std::string addr = address_on(name, net);
            EXPECT_TRUE(pings(host, addr)) << addr;
            EXPECT_TRUE(pings(lan, addr)) << addr;
            EXPECT_TRUE(pings_from_container(peer, addr)) << addr;
        }
        EXPECT_EQ(fetch_from_lan("http://10.65.0.1:" + std::to_string(port) + "/index.html"), "hello-from-flatpath\n");
        EXPECT_NE(podman({"logs", name}).find("10.65.0.2"), std::string::npos) << "the server saw the client's address";
    }
};

// A container on a routed and a bridge-mode flatpath network: both ADDs succeed; each
// address answers the host, the LAN and its network's neighbours; the published port is
// held by the network set up first (Podman's order varies) and answers the LAN;
// disconnecting that network hands the port to the other one, which keeps working, and
// connecting it again works; nothing is left after rm.
TEST_F(PodmanNetworksTest, TwoFlatpathNetworks)
{
    podman(run_on("peer1", {"fpnet"}));
    podman(run_on("peer2", {"fpbr"}));
    const std::string before = host_state();
    podman(run_on("two", {"fpnet", "fpbr"}, {"-p", "8080:80"}));
    const std::string routed = address_on("two", "fpnet"), bridged = address_on("two", "fpbr");
    EXPECT_TRUE(routed.starts_with("10.66.0.")) << routed;
    EXPECT_TRUE(bridged.starts_with("10.70.0.")) << bridged;
    const bool routed_holds = backend_of(8080) == routed + ":80";
    EXPECT_TRUE(routed_holds || backend_of(8080) == bridged + ":80") << backend_of(8080);
    expect_reachable("two", {{"fpnet", "peer1"}, {"fpbr", "peer2"}}, 8080);

    const std::string holder = routed_holds ? "fpnet" : "fpbr", other = routed_holds ? "fpbr" : "fpnet";
    podman({"network", "disconnect", holder, "two"});
    EXPECT_EQ(backend_of(8080), (routed_holds ? bridged : routed) + ":80") << "the port goes to the network that stays";
    expect_reachable("two", {{other, other == "fpnet" ? "peer1" : "peer2"}}, 8080);
    podman({"network", "connect", holder, "two"});
    expect_reachable("two", {{"fpnet", "peer1"}, {"fpbr", "peer2"}}, 8080);

    podman({"rm", "-f", "-t", "0", "two"});
    EXPECT_EQ(host_state(), before);
    EXPECT_EQ(backend_of(8080), "");
}

// flatpath next to a CNI bridge network, in both orders: every ADD succeeds (a second
// network's routes never collide with the first's), both addresses answer, and the
// published port, which flatpath translates before the portmap plugin's rules see it,
// answers the LAN: the reply leaves by the flatpath interface its flow came in on.
TEST_F(PodmanNetworksTest, FlatpathAndACniBridgeNetworkInBothOrders)
{
    podman(run_on("peer1", {"fpnet"}));
    podman(run_on("peerb", {"brnet"}));
    podman(run_on("bridge-first", {"brnet", "fpnet"}, {"-p", "8081:80"}));
    expect_reachable("bridge-first", {{"fpnet", "peer1"}, {"brnet", "peerb"}}, 8081);
    podman(run_on("flatpath-first", {"fpnet", "brnet"}, {"-p", "8082:80"}));
    expect_reachable("flatpath-first", {{"fpnet", "peer1"}, {"brnet", "peerb"}}, 8082);
}

// podman network connect/disconnect each way: a container on the CNI bridge network gets
// a flatpath network and loses it again; a container on a flatpath network gets the CNI
// bridge network and loses it; the interface that stays keeps working.
TEST_F(PodmanNetworksTest, ConnectAndDisconnectEachWay)
{
    podman(run_on("peer1", {"fpnet"}));
    podman(run_on("peerb", {"brnet"}));
    podman(run_on("onbridge", {"brnet"}));
    podman({"network", "connect", "fpnet", "onbridge"});
    const std::string added = address_on("onbridge", "fpnet");
    EXPECT_TRUE(pings(lan, added)) << added;
    EXPECT_TRUE(pings_from_container("peer1", added)) << added;
    podman({"network", "disconnect", "fpnet", "onbridge"});
    EXPECT_FALSE(pings(host, added)) << added << " is gone";
    EXPECT_TRUE(pings_from_container("peerb", address_on("onbridge", "brnet")));

    podman(run_on("onflatpath", {"fpnet"}));
    podman({"network", "connect", "brnet", "onflatpath"});
    EXPECT_TRUE(pings_from_container("peerb", address_on("onflatpath", "brnet")));
    EXPECT_TRUE(pings(lan, address_on("onflatpath", "fpnet")));
    podman({"network", "disconnect", "brnet", "onflatpath"});
    EXPECT_TRUE(pings(lan, address_on("onflatpath", "fpnet")));
    EXPECT_TRUE(pings_from_container("peer1", address_on("onflatpath", "fpnet")));
}

} // namespace
} // namespace fp::test

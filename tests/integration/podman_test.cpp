// Real Podman 4.3.1 (CNI backend) with flatpath-cni, end to end. Podman runs inside
// a namespace of the test's (through nsenter, so that cgroups stay visible to runc),
// with its own containers.conf, storage and network directory, and containers run
// from a busybox root filesystem: nothing of the machine's Podman setup is used.
#include <gtest/gtest.h>

#include <netinet/in.h>

#include <ctime>

#include "container_info.hpp"
#include "error.hpp"
#include "eventually.hpp"
#include "netns_scope.hpp"
#include "podman_fixture.hpp"
#include "runtime_api.hpp"
#include "runtime_event.hpp"
#include "sockets.hpp"
#include "traffic.hpp"

namespace fp::test {
namespace {

// Two containers on a flatpath network reach each other; --ip and --mac-address hold.
TEST_F(PodmanTest, ContainersReachEachOtherWithRequestedAddresses)
{
    podman(run_args("one", {"--ip", "10.66.0.50", "--mac-address", "02:66:00:00:00:50"}, {"sleep", "300"}));
    const std::string shown = podman({"exec", "one", "ip", "addr", "show", "eth0"});
    EXPECT_NE(shown.find("inet 10.66.0.50/32"), std::string::npos) << shown;
    EXPECT_NE(shown.find("02:66:00:00:00:50"), std::string::npos) << shown;
    const CommandResult ping = run_command(podman_argv(
        {"run", "--rm", "--network", "fpnet", "--rootfs", dir + "/rootfs", "ping", "-c", "3", "-W", "2", "10.66.0.50"}));
    EXPECT_EQ(ping.status, 0) << ping.output;
    EXPECT_NE(ping.output.find("3 packets received"), std::string::npos) << ping.output;
}

// -p 8080:80 is reachable from the LAN through the uplink, the server sees the client's
// own address, and after stop and rm nothing of the container is left; no firewall rule.
TEST_F(PodmanTest, PublishedPortFromTheLanAndNothingLeftAfterRm)
{
    const std::string before = host_state();
    podman(run_args("web", {"-p", "8080:80"}, {"httpd", "-f", "-vv", "-p", "80", "-h", "/www"}));
    EXPECT_EQ(fetch_from_lan("http://10.65.0.1:8080/index.html"), "hello-from-flatpath\n");
    EXPECT_NE(podman({"logs", "web"}).find("10.65.0.2"), std::string::npos) << "the server saw the client's address";
    const std::string during = lab->in(host, {"iptables-save"}) + lab->in(host, {"nft", "list", "ruleset"});
    EXPECT_EQ(during, "") << "flatpath made firewall rules";
    podman({"stop", "-t", "1", "web"});
    podman({"rm", "web"});
    EXPECT_EQ(host_state(), before);
}

// The host reaches a container's published ports as on Podman's bridge network (the
// reference, in the same test): 127.0.0.1 and localhost for -p 8080:80, -p
// 127.0.0.1:8400:80 from the host only, never from the LAN, and [::1]:8080 refused when the
// network has no IPv6. On flatpath this happens at the socket: no flow is translated.
TEST_F(PodmanTest, HostReachesPublishedPortsOnLoopbackLikeOnABridgeNetwork)
{
    add_network(reference_bridge_network("ref", "cni-ref0", "10.67.0.0/24", "10.67.0.1"));
    const auto fetch = [&](const std::string &ns, const std::string &url) {
        const CommandResult r =
            run_command({"nsenter", "--net=/run/netns/" + ns, "timeout", "5", "/bin/busybox", "wget", "-qO-", url});
        return r.status == 0 ? r.output : "";
    };
    for (const std::string network : {"ref", "fpnet"}) {
        SCOPED_TRACE(network);
        const std::string name = "web-" + network;
        podman(run_args(name, {"-p", "8080:80", "-p", "127.0.0.1:8400:80"}, {"httpd", "-f", "-vv", "-p", "80", "-h", "/www"},
                        network));
        std::string body;
        EXPECT_TRUE(eventually([&] { return (body = fetch(host, "http://127.0.0.1:8080/index.html")) != ""; })) << body;
        EXPECT_EQ(body, "hello-from-flatpath\n");
        EXPECT_EQ(fetch(host, "http://localhost:8080/index.html"), "hello-from-flatpath\n");
        EXPECT_EQ(fetch(host, "http://127.0.0.1:8400/index.html"), "hello-from-flatpath\n");
        EXPECT_EQ(tcp_refusal(host, {IpAddr::parse("::1"), 8080}), "Connection refused");
        if (network == "fpnet") {
            EXPECT_EQ(lab->in(host, {FLATPATH_BIN, "--pin-root", lab->pin_root(), "ct", "list", "--json"}), "[]\n")
                << "the host's connections were sent to the container at the socket";
        }
        EXPECT_EQ(fetch_from_lan("http://10.65.0.1:8080/index.html"), "hello-from-flatpath\n");
        EXPECT_EQ(fetch(lan, "http://10.65.0.1:8400/index.html"), "") << "a port bound to 127.0.0.1 is the host's alone";
        podman({"rm", "-f", "-t", "0", name});
    }
}

// UDP to 127.0.0.1:8443 for -p 8443:443/udp is answered, as on Podman's bridge network
// (the reference, in the same test), and the answer comes from the address and port the
// host sent to; the server is a real socket in the container's own network namespace.
TEST_F(PodmanTest, HostReachesAPublishedUdpPortOnLoopbackLikeOnABridgeNetwork)
{
    add_network(reference_bridge_network("ref", "cni-ref0", "10.67.0.0/24", "10.67.0.1"));
    const IpAddr any = IpAddr::parse("0.0.0.0");
    for (const std::string network : {"ref", "fpnet"}) {
        SCOPED_TRACE(network);
        const std::string name = "udp-" + network;
        podman(run_args(name, {"-p", "8443:443/udp"}, {"sleep", "300"}, network));
        const std::string netns = inspect(name, "{{.NetworkSettings.SandboxKey}}");
        EXPECT_EQ(udp_echo_source(netns, {any, 443}, host, {IpAddr::parse("127.0.0.1"), 8443}), "127.0.0.1 8443");
        EXPECT_EQ(udp_echo_source(netns, {any, 443}, host, {IpAddr::parse("10.65.0.1"), 8443}), "10.65.0.1 8443");
        if (network == "fpnet") {
            EXPECT_EQ(lab->in(host, {FLATPATH_BIN, "--pin-root", lab->pin_root(), "ct", "list", "--json"}), "[]\n")
                << "the host's datagrams were sent to the container at the socket";
        }
        podman({"rm", "-f", "-t", "0", name});
    }
}

// On a dual-stack flatpath network, -p 8081:80 answers the host on 127.0.0.1, localhost and
// [::1] (the IPv6 backend exists), at the socket: no flow is translated per packet.
TEST_F(PodmanTest, HostReachesADualStackContainerOnBothLoopbacks)
{
    add_network({{"cniVersion", "1.0.0"},
                 {"name", "fp6"},
                 {"plugins",
                  {{{"type", "flatpath-cni"},
                    {"ranges", {{{{"subnet", "10.68.0.0/24"}}}, {{{"subnet", "fd68::/64"}}}}},
                    {"uplinks", {"uplink0"}},
                    {"pinRoot", lab->pin_root()},
                    {"stateDir", dir + "/state"},
                    {"capabilities", {{"portMappings", true}}}}}}});
    podman(run_args("web6", {"-p", "8081:80"}, {"httpd", "-f", "-vv", "-p", "80", "-h", "/www"}, "fp6"));
    const auto fetch = [&](const std::string &url) {
        const CommandResult r =
            run_command({"nsenter", "--net=/run/netns/" + host, "timeout", "5", "/bin/busybox", "wget", "-qO-", url});
        return r.status == 0 ? r.output : "";
    };
    std::string body;
    EXPECT_TRUE(eventually([&] { return (body = fetch("http://[::1]:8081/index.html")) != ""; }));
    EXPECT_EQ(body, "hello-from-flatpath\n");
    EXPECT_EQ(fetch("http://127.0.0.1:8081/index.html"), "hello-from-flatpath\n");
    EXPECT_EQ(fetch("http://localhost:8081/index.html"), "hello-from-flatpath\n");
    EXPECT_EQ(lab->in(host, {FLATPATH_BIN, "--pin-root", lab->pin_root(), "ct", "list", "--json"}), "[]\n");
}

// A container reaches a LAN that has no route to its network, as on Podman's bridge
// network with ipMasq (the reference, in the same test): the LAN server sees the host's
// address, pings are answered; on the flatpath network the flows are masqueraded by the
// datapath (listed as masq flows) with no iptables or nft rule of flatpath's.
TEST_F(PodmanTest, ContainersReachTheLanMasqueradedLikeOnABridgeNetwork)
{
    add_network(reference_bridge_network("ref", "cni-ref0", "10.67.0.0/24", "10.67.0.1", /*ip_masq=*/true));
    Socket server = bound_socket_in_netns(lan, IpAddr::parse("10.65.0.2"), 7001, SOCK_STREAM);
    ASSERT_EQ(::listen(server.get(), 4), 0);
    for (const std::string network : {"ref", "fpnet"}) {
        SCOPED_TRACE(network);
        // Rules without counters or dates: the reference container's rules count its packets.
        const auto rules = [&] {
            return lab->in(host, {"iptables", "-t", "nat", "-S"}) + lab->in(host, {"iptables", "-S"}) +
                   lab->in(host, {"nft", "-s", "list", "ruleset"});
        };
        const std::string rules_before = rules();
        podman(run_args("out-" + network, {}, {"sh", "-c", "echo from-" + network + " | nc 10.65.0.2 7001; sleep 300"},
                        network));
        ASSERT_TRUE(readable(server.get(), 10000)) << "the container's connection never arrived";
        sockaddr_storage from{};
        socklen_t len = sizeof from;
        Socket conn(::accept(server.get(), reinterpret_cast<sockaddr *>(&from), &len));
        char text[32] = {};
        ASSERT_TRUE(readable(conn.get(), 5000));
        EXPECT_GT(::recv(conn.get(), text, sizeof text - 1, 0), 0);
        EXPECT_EQ(std::string(text), "from-" + network + "\n");
        EXPECT_EQ(address_of(from), "10.65.0.1") << "the LAN saw the container's own address";
        const CommandResult ping = run_command(podman_argv({"exec", "out-" + network, "ping", "-c", "2", "-W", "2", "10.65.0.2"}));
        EXPECT_EQ(ping.status, 0) << ping.output;
        if (network == "fpnet") {
            const nlohmann::json flows =
                nlohmann::json::parse(lab->in(host, {FLATPATH_BIN, "--pin-root", lab->pin_root(), "ct", "list", "--json"}));
            std::size_t masq = 0;
            for (const auto &f : flows)
                masq += f["kind"] == "masq" ? 1 : 0;
            EXPECT_GE(masq, 2u) << flows.dump();
            EXPECT_EQ(rules(), rules_before) << "flatpath made a firewall rule";
        }
    }
}

// `flatpath network create` makes a network Podman uses by name: it takes the first
// /24 of 10.90.0.0/16 that neither a network Podman made nor a host route has, a
// container on it gets an address there and answers the host; a subnet another network,
// a host route or a host address has is refused, naming it; `network rm` is refused
// while the container has its address and removes the network after `podman rm`.
TEST_F(PodmanTest, NetworkCreateMakesANetworkPodmanRunsOn)
{
    const std::vector<std::string> flatpath = {FLATPATH_BIN, "--pin-root", lab->pin_root(), "network",
                                               "--config-dir", dir + "/net.d"};
    const auto network = [&](const std::vector<std::string> &args) {
        std::vector<std::string> a = flatpath;
        a.insert(a.end(), args.begin(), args.end());
        std::vector<std::string> argv = {"ip", "netns", "exec", host};
        argv.insert(argv.end(), a.begin(), a.end());
        return run_command(argv);
    };
    podman({"network", "create", "--subnet", "10.90.0.0/24", "pbr"});
    lab->in(host, {"ip", "route", "add", "10.90.1.0/24", "via", "10.65.0.2"});

    const CommandResult made = network({"create", "fast", "--state-dir", dir + "/state"});
    ASSERT_EQ(made.status, 0) << made.output;
    EXPECT_NE(podman({"network", "ls", "--format", "{{.Name}}"}).find("fast\n"), std::string::npos);
    const nlohmann::json ls = nlohmann::json::parse(network({"ls", "--json"}).output);
    ASSERT_EQ(ls.size(), 2u) << ls.dump() << " (fpnet and fast)";
    EXPECT_EQ(ls[0]["name"], "fast");
    EXPECT_EQ(ls[0]["subnets"], nlohmann::json::array({"10.90.2.0/24"}));

    podman(run_args("onfast", {}, {"sleep", "300"}, "fast"));
    const std::string addr = podman({"inspect", "--format", "{{(index .NetworkSettings.Networks \"fast\").IPAddress}}",
                                     "onfast"});
    EXPECT_TRUE(addr.starts_with("10.90.2.")) << addr;
    EXPECT_EQ(run_command({"ip", "netns", "exec", host, "ping", "-c", "1", "-W", "2", addr.substr(0, addr.find('\n'))})
                  .status,
              0);

    const std::vector<std::pair<std::string, std::string>> refused = {
        {"10.90.0.128/25", "overlaps 10.90.0.0/24, which network pbr (" + dir + "/net.d/pbr.conflist) uses"},
        {"10.90.1.0/24", "which the route 10.90.1.0/24 dev uplink0 uses"},
        {"10.65.0.0/16", "which the route 10.65.0.0/24 dev uplink0 uses"},
        {"10.90.2.0/24", "which network fast ("},
    };
    for (const auto &[subnet, message] : refused) {
        const CommandResult r = network({"create", "other", "--subnet", subnet});
        EXPECT_NE(r.status, 0) << subnet;
        EXPECT_NE(r.output.find("flatpath: error: subnet " + subnet + " overlaps"), std::string::npos) << r.output;
        EXPECT_NE(r.output.find(message), std::string::npos) << r.output;
        EXPECT_FALSE(fs::exists(dir + "/net.d/other.conflist"));
    }

    const CommandResult busy = network({"rm", "fast"});
    EXPECT_NE(busy.status, 0);
    EXPECT_NE(busy.output.find("still has 1 address(es) in use"), std::string::npos) << busy.output;
    const CommandResult not_ours = network({"rm", "pbr"});
    EXPECT_NE(not_ours.output.find("is not a flatpath network"), std::string::npos) << not_ours.output;
    podman({"rm", "-f", "-t", "0", "onfast"});
    const CommandResult removed = network({"rm", "fast"});
    EXPECT_EQ(removed.status, 0) << removed.output;
    EXPECT_EQ(podman({"network", "ls", "--format", "{{.Name}}"}).find("fast\n"), std::string::npos);
}

// A container's lifecycle as users drive it, 20 times over, with a published port: podman
// restart, stop + start, rm -f + run again. Podman runs the CNI DEL of a stopping
// container from conmon's cleanup process, without the caller's environment; the plugin
// takes its pin root and state dir from the conflist alone, so a caller whose
// environment points elsewhere changes nothing. After every step the port answers the
// LAN and exactly one endpoint, one DNAT entry, one lease and one host veth exist; after
// the last rm nothing is left.
TEST_F(PodmanTest, TwentyRestartsStopsAndRemovalsLeaveNoStaleState)
{
    const std::string before = host_state();
    std::vector<std::string> env_podman = podman_argv({});
    env_podman.insert(env_podman.begin() + 3, {"FLATPATH_PIN_ROOT=" + dir + "/not-the-pins",
                                               "FLATPATH_STATE_DIR=" + dir + "/not-the-state"});
    const auto run = [&](const std::vector<std::string> &args) {
        std::vector<std::string> argv = env_podman;
        argv.insert(argv.end(), args.begin(), args.end());
        return run_checked(argv);
    };
    const auto flatpath_list = [&](const char *what) {
        return nlohmann::json::parse(
            lab->in(host, {FLATPATH_BIN, "--pin-root", lab->pin_root(), what, "list", "--json"}));
    };
    const std::vector<std::string> web = run_args("web", {"-p", "8080:80"}, {"httpd", "-f", "-p", "80", "-h", "/www"});
    run(web);
    for (int cycle = 0; cycle < 20; ++cycle) {
        SCOPED_TRACE("cycle " + std::to_string(cycle));
        switch (cycle % 3) {
        case 0:
            run({"restart", "-t", "0", "web"});
            break;
        case 1:
            run({"stop", "-t", "0", "web"});
            run({"start", "web"});
            break;
        case 2:
            run({"rm", "-f", "-t", "0", "web"});
            run(web);
            break;
        }
        EXPECT_EQ(fetch_from_lan("http://10.65.0.1:8080/index.html"), "hello-from-flatpath\n");
        const nlohmann::json endpoints = flatpath_list("endpoint");
        ASSERT_EQ(endpoints.size(), 1u) << endpoints.dump();
        EXPECT_NE(endpoints[0]["dev"], "") << "an endpoint on a removed device";
        EXPECT_EQ(flatpath_list("dnat").size(), 1u);
        const std::string state = host_state();
        EXPECT_EQ(std::count(state.begin(), state.end(), '\n') - std::count(before.begin(), before.end(), '\n'),
                  3) << "one host veth, one host route, one lease more than before:\n" << state;
        if (HasFailure())
            break;
    }
    run({"rm", "-f", "-t", "0", "web"});
    EXPECT_EQ(host_state(), before);
    EXPECT_FALSE(fs::exists(dir + "/not-the-pins"));
    EXPECT_FALSE(fs::exists(dir + "/not-the-state"));
}

// Eight containers with published ports removed with one `podman rm -f`: their cleanups
// run at once, each from its own conmon, and none leaves an endpoint, entry, lease or link.
TEST_F(PodmanTest, EightContainersRemovedAtOnceLeaveNothing)
{
    const std::string before = host_state();
    std::vector<std::string> rm = {"rm", "-f", "-t", "0"};
    for (int i = 0; i < 8; ++i) {
        const std::string name = "c" + std::to_string(i);
        podman(run_args(name, {"-p", std::to_string(8100 + i) + ":80"}, {"httpd", "-f", "-p", "80", "-h", "/www"}));
        rm.push_back(name);
    }
    EXPECT_EQ(fetch_from_lan("http://10.65.0.1:8107/index.html"), "hello-from-flatpath\n");
    podman(rm);
    EXPECT_EQ(host_state(), before);
    EXPECT_EQ(lab->in(host, {FLATPATH_BIN, "--pin-root", lab->pin_root(), "endpoint", "list", "--json"}), "[]\n");
    EXPECT_EQ(lab->in(host, {FLATPATH_BIN, "--pin-root", lab->pin_root(), "dnat", "list", "--json"}), "[]\n");
}

// The daemon's window on Podman (issue 6): Podman's REST API on a test-owned socket,
// read by RuntimeApi, lists a running container with its labels; its inspect answer gives
// the labels, the address and MAC on the network and the published port; and its event
// stream reports the container's start with the labels, one JSON object per line.
TEST_F(PodmanTest, RuntimeApiListsInspectsAndStreamsEvents)
{
    ASSERT_NO_FATAL_FAILURE(start_service());
    const RuntimeApi api(sock);
    EXPECT_TRUE(api.get_json("/v4.0.0/libpod/info").contains("version"));

    const std::time_t since = std::time(nullptr) - 1;
    podman(run_args("labelled",
                    {"--label", "network.enable=true", "--label", "network.dnat.ports=80,53/udp", "-p", "8080:80"},
                    {"sleep", "300"}));
    bool listed = false;
    for (const auto &c : api.get_json("/v4.0.0/libpod/containers/json"))
        if (c["Names"][0] == "labelled")
            listed = c["Labels"]["network.enable"] == "true" && c["Labels"]["network.dnat.ports"] == "80,53/udp";
    EXPECT_TRUE(listed) << "the running container, with its labels";

    const ContainerInfo info = parse_container_inspect(api.get_json("/v4.0.0/libpod/containers/labelled/json"));
    EXPECT_EQ(info.name, "labelled");
    EXPECT_EQ(info.labels.at("network.dnat.ports"), "80,53/udp");
    ASSERT_TRUE(info.networks.contains("fpnet"));
    EXPECT_TRUE(info.networks.at("fpnet").ip.starts_with("10.66.0.")) << info.networks.at("fpnet").ip;
    EXPECT_EQ(info.networks.at("fpnet").mac.size(), 17u);
    ASSERT_EQ(info.published.size(), 1u);
    EXPECT_EQ(info.published[0].host_port, 8080);
    EXPECT_EQ(info.published[0].container_port, 80);
    EXPECT_EQ(info.published[0].proto, 6);

    // stream=false with an end time: the service sends what happened and closes. Podman
    // writes its event log asynchronously: a query right after `run` may come back empty,
    // so it is asked again (a fresh end time each time) until the start is there.
    bool started = false;
    std::size_t lines = 0, refused = 0;
    RuntimeApi::StreamEnd end{};
    const auto query = [&] {
        started = false;
        lines = refused = 0;
        end = api.follow("/v4.0.0/libpod/events?stream=false&since=" + std::to_string(since) +
                             "&until=" + std::to_string(std::time(nullptr) + 1),
                         [&](std::string_view line) {
                             ++lines;
                             std::string why;
                             auto e = parse_runtime_event(line, &why);
                             if (!e)
                                 ++refused;
                             else if (e->kind == EventKind::Start && e->container_id == info.id)
                                 started = e->attributes["name"] == "labelled" &&
                                           e->attributes["network.enable"] == "true";
                             return true;
                         });
        return started;
    };
    eventually(query, 10);
    EXPECT_TRUE(started) << lines << " event lines, none a start of 'labelled' with its label";
    EXPECT_EQ(refused, 0u);
    EXPECT_FALSE(end.stopped);
    EXPECT_EQ(end.oversized, 0u);
    EXPECT_EQ(end.truncated, 0u);
    EXPECT_THROW(api.get("/v4.0.0/libpod/containers/no-such-container/json"), Error);
}

} // namespace
} // namespace fp::test

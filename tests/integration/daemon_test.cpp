// `flatpath daemon` with a real Podman: `podman system service` on a test-owned socket,
// real containers (busybox root filesystem) on a CNI bridge network that flatpath did
// not create ("brnet": bridge + host-local + portmap, as Podman's default network), so
// the daemon works in attach mode. A LAN namespace reaches the host through uplink0.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>

#include "daemon_fixture.hpp"
#include "error.hpp"
#include "missing_tool.hpp"
#include "netns_task.hpp"
#include "podman_fixture.hpp"
#include "runtime_api.hpp"
#include "sockets.hpp"
#include "udp_tunnel.hpp"

namespace fp::test {
namespace {

// What promtool, Prometheus' own checker (parser and linter), finds wrong with a metrics
// page: "" when nothing.
std::string promtool_check(const std::string &page)
{
    if (!std::filesystem::exists("/usr/bin/promtool")) {
        if (running_in_ci())
            return "promtool is not installed, and CI=true: ./quickstart should have installed it (Debian prometheus)";
        std::cerr << "promtool is not installed (Debian prometheus): the metrics page is not checked with it\n";
        return "";
    }
    char path[] = "/tmp/fp-metrics-XXXXXX";
    const int fd = ::mkstemp(path);
    if (fd < 0 || ::write(fd, page.data(), page.size()) != static_cast<ssize_t>(page.size()))
        return std::string("cannot write ") + path;
    ::close(fd);
    const CommandResult r = run_command({"sh", "-c", std::string("promtool check metrics < ") + path});
    std::filesystem::remove(path);
    return r.status == 0 ? "" : r.output;
}

class DaemonTest : public PodmanTest {
protected:
    void SetUp() override
    {
        PodmanTest::SetUp();
        if (IsSkipped() || HasFatalFailure())
            return;
        add_network(reference_bridge_network("brnet", "fpbr0", "10.67.0.0/24", "10.67.0.1"));
        add_network(reference_bridge_network("brnet2", "fpbr1", "10.68.0.0/24", "10.68.0.1"));
        // Strict reverse-path filtering everywhere: published ports must work without
        // any "warm-up" traffic to the containers.
        for (const char *conf : {"all", "default", "uplink0"})
            lab->in(host, {"sysctl", "-qw", std::string("net.ipv4.conf.") + conf + ".rp_filter=1"});
        ASSERT_NO_FATAL_FAILURE(start_service());
        daemon = std::make_unique<DaemonRunner>(host, lab->pin_root(), dir);
    }
    void TearDown() override
    {
        if (daemon && daemon->process)
            daemon->stop(SIGTERM);
        PodmanTest::TearDown();
    }

    std::vector<std::string> flags(const std::vector<std::string> &more = {}) const
    {
        std::vector<std::string> f = {"--runtime-api", sock, "--uplink", "uplink0"};
        f.insert(f.end(), more.begin(), more.end());
        return f;
    }
    std::string run_labelled(const std::string &name, const std::string &ports, const std::vector<std::string> &cmd,
                             const std::vector<std::string> &extra = {})
    {
        std::vector<std::string> e = {"--label", "network.enable=true"};
        if (!ports.empty())
            e.insert(e.end(), {"--label", "network.dnat.ports=" + ports});
        e.insert(e.end(), extra.begin(), extra.end());
        podman(run_args(name, e, cmd, "brnet"));
        return inspect(name, "{{(index .NetworkSettings.Networks \"brnet\").IPAddress}}");
    }

    bool published(const std::string &port, const std::string &backend)
    {
        for (const auto &r : daemon->flatpath_json({"dnat", "list"}))
            if (r["ports"] == port && r["host"] == "any" && r["proto"] == "tcp" && r["backend"] == backend)
                return true;
        return false;
    }
    bool any_published() { return !daemon->flatpath_json({"dnat", "list"}).empty(); }
    // The host-side device of the endpoint at addr ("(gone)" when the device is), "" when
    // there is no such endpoint.
    std::string endpoint_dev(const std::string &addr)
    {
        for (const auto &e : daemon->flatpath_json({"endpoint", "list"}))
            if (e["address"] == addr)
                return e["dev"] == "" ? "(gone)" : e["dev"].get<std::string>();
        return "";
    }
    std::uint64_t delivered_to(const std::string &dev)
    {
        const nlohmann::json stats = daemon->flatpath_json({"stats"});
        for (const auto &e : stats["endpoints"])
            if (e["dev"] == dev)
                return e["to_packets"];
        return 0;
    }
    std::size_t flows_to(const std::string &addr)
    {
        std::size_t n = 0;
        for (const auto &f : daemon->flatpath_json({"ct", "list"}))
            n += f["backend"].get<std::string>().rfind(addr + ":", 0) == 0;
        return n;
    }
    std::size_t records() const
    {
        const std::string d = daemon->run_dir() + "/daemon/containers";
        return fs::exists(d) ? static_cast<std::size_t>(std::distance(fs::directory_iterator(d), fs::directory_iterator()))
                             : 0;
    }

    std::unique_ptr<DaemonRunner> daemon;
};

// Drop-in use, configured by the environment variables of the label-watching iptables
// daemons: a container labelled network.enable=true and network.dnat.ports=80 is
// published on the host's addresses (reached from the LAN through XDP on the uplink,
// with strict rp_filter and no warm-up, the client's address kept), its -p port that the
// label does not list gets the published-port mark, and its interface on the bridge
// becomes a flatpath endpoint; an unlabelled container gets nothing. The metrics show
// it all. Stopping the container removes every entry and its flows.
TEST_F(DaemonTest, LabelsDriveDnatAndMarksAndStopRemovesThem)
{
    ASSERT_NO_FATAL_FAILURE(daemon->start(
        {"--uplink", "uplink0"}, {"RUNTIME_API=unix://" + sock, "WATCH_NETWORK=brnet",
                                  "IPTABLES_MANGLE_MARK_PUBLISHED_PORTS=0x10/0xff",
                                  "WATCH_CONTAINER_LABEL=network.enable", "IPTABLES_DNAT_PORTS_LABEL=network.dnat.ports"}));
    const std::string web = run_labelled("web", "80", {"httpd", "-f", "-vv", "-p", "80", "-h", "/www"}, {"-p", "8081:81"});
    podman(run_args("plain", {}, {"sleep", "300"}, "brnet"));
    const std::string plain = inspect("plain", "{{(index .NetworkSettings.Networks \"brnet\").IPAddress}}");

    ASSERT_TRUE(eventually([&] { return published("80", web); })) << daemon->log();
    const nlohmann::json marks = daemon->flatpath_json({"mark", "list"});
    ASSERT_EQ(marks.size(), 1u) << marks.dump();
    EXPECT_EQ(marks[0]["address"], web);
    EXPECT_EQ(marks[0]["port"], 81);
    EXPECT_EQ(marks[0]["match"], "source");
    EXPECT_EQ(marks[0]["value"], 0x10);
    EXPECT_EQ(marks[0]["mask"], 0xff);
    const std::string dev = endpoint_dev(web);
    EXPECT_TRUE(dev.starts_with("veth")) << "attach mode registers the host end of the container's veth: " << dev;
    EXPECT_EQ(endpoint_dev(plain), "") << "an unlabelled container is left alone";

    const std::uint64_t before = delivered_to(dev);
    EXPECT_EQ(fetch_from_lan("http://10.65.0.1/index.html"), "hello-from-flatpath\n");
    EXPECT_NE(podman({"logs", "web"}).find("10.65.0.2"), std::string::npos) << "the server saw the client's address";
    EXPECT_GT(delivered_to(dev), before) << "the fast path delivered the request";
    EXPECT_GE(flows_to(web), 1u);

    const std::string page = daemon->scrape();
    EXPECT_EQ(promtool_check(page), "") << page;
    EXPECT_NE(page.find("flatpath_map_entries{map=\"fp_dnat\"} 1\n"), std::string::npos) << page;
    EXPECT_NE(page.find("flatpath_map_entries{map=\"fp_marks\"} 1\n"), std::string::npos) << page;
    EXPECT_NE(page.find("flatpath_drops_total{hook=\"xdp_uplink\""), std::string::npos) << page;
    EXPECT_EQ(daemon->metric("flatpath_daemon_runtime_connected"), 1);
    EXPECT_EQ(daemon->metric("flatpath_daemon_managed_containers"), 1);
    EXPECT_GE(daemon->metric("flatpath_daemon_events_total{kind=\"start\"}"), 1);
    EXPECT_GT(daemon->metric("flatpath_endpoint_packets_total{addresses=\"" + web + "\",dev=\"" + dev +
                             "\",direction=\"to\"}"),
              0)
        << page;

    podman({"stop", "-t", "1", "web"});
    EXPECT_TRUE(eventually([&] { return !any_published() && daemon->flatpath_json({"mark", "list"}).empty(); }))
        << daemon->log();
    EXPECT_EQ(endpoint_dev(web), "");
    EXPECT_EQ(flows_to(web), 0u) << "the container's flows are purged";
    EXPECT_EQ(records(), 0u);
    EXPECT_EQ(daemon->metric("flatpath_daemon_managed_containers"), 0);
}

// Two containers label the same port: the first publishes it, the second is refused
// (logged, counted) and takes it over when the first stops, as a second iptables rule
// for the port would once the first is deleted.
TEST_F(DaemonTest, ARefusedPortIsTakenOverWhenItsHolderStops)
{
    ASSERT_NO_FATAL_FAILURE(daemon->start(flags()));
    const std::string first = run_labelled("first", "80", {"sleep", "300"});
    ASSERT_TRUE(eventually([&] { return published("80", first); })) << daemon->log();
    const std::string second = run_labelled("second", "80", {"sleep", "300"});
    ASSERT_TRUE(eventually([&] { return daemon->metric("flatpath_daemon_problems_total") == 1; })) << daemon->log();
    EXPECT_TRUE(published("80", first));
    EXPECT_NE(daemon->log().find("tcp 0.0.0.0:80 is already published (to " + first + ":80)"), std::string::npos)
        << daemon->log();
    podman({"stop", "-t", "1", "first"});
    EXPECT_TRUE(eventually([&] { return published("80", second); })) << daemon->log();
}

// On a flatpath-cni network the plugin owns the endpoint and the daemon only applies the
// labels (Podman never passes labels to a CNI plugin): the label's port is published to
// the container, the endpoint is left to the plugin, and stopping the container takes
// both away, each by its owner.
TEST_F(DaemonTest, LabelsOnAFlatpathNetworkLeaveTheEndpointToThePlugin)
{
    ASSERT_NO_FATAL_FAILURE(daemon->start(flags()));
    podman(run_args("cniweb", {"--label", "network.enable=true", "--label", "network.dnat.ports=80"},
                    {"httpd", "-f", "-p", "80", "-h", "/www"}));
    const std::string ip = inspect("cniweb", "{{(index .NetworkSettings.Networks \"fpnet\").IPAddress}}");
    ASSERT_TRUE(eventually([&] { return published("80", ip); })) << daemon->log();
    EXPECT_EQ(fetch_from_lan("http://10.65.0.1/index.html"), "hello-from-flatpath\n");
    const nlohmann::json record = nlohmann::json::parse(
        std::ifstream(daemon->run_dir() + "/daemon/containers/" + inspect("cniweb", "{{.Id}}") + ".json"));
    EXPECT_TRUE(record["endpoints"].empty()) << record.dump();
    EXPECT_NE(endpoint_dev(ip), "");
    podman({"stop", "-t", "1", "cniweb"});
    EXPECT_TRUE(eventually([&] { return !any_published() && endpoint_dev(ip) == ""; })) << daemon->log();
}

// Attach mode: two labelled containers on a Linux bridge that flatpath did not create
// reach each other through the fast path (the receiver's delivered counter counts every
// ping), not through the bridge. A container on another bridge is another zone: flatpath
// leaves traffic between the two networks to the host (and its firewall), counted.
TEST_F(DaemonTest, AttachModeCarriesTrafficPastTheBridge)
{
    ASSERT_NO_FATAL_FAILURE(daemon->start(flags()));
    const std::string a = run_labelled("a", "", {"sleep", "300"});
    const std::string b = run_labelled("b", "", {"sleep", "300"});
    ASSERT_TRUE(eventually([&] { return endpoint_dev(a) != "" && endpoint_dev(b) != ""; })) << daemon->log();
    const std::string dev_b = endpoint_dev(b);
    const std::uint64_t before = delivered_to(dev_b);
    const std::string ping = podman({"exec", "a", "ping", "-c", "5", "-W", "2", b});
    EXPECT_NE(ping.find("5 packets received"), std::string::npos) << ping;
    EXPECT_GE(delivered_to(dev_b) - before, 5u) << "echo requests delivered by flatpath";

    podman(run_args("c", {"--label", "network.enable=true"}, {"sleep", "300"}, "brnet2"));
    const std::string c = inspect("c", "{{(index .NetworkSettings.Networks \"brnet2\").IPAddress}}");
    ASSERT_TRUE(eventually([&] { return endpoint_dev(c) != ""; })) << daemon->log();
    std::map<std::string, std::uint32_t> zones;
    for (const auto &e : daemon->flatpath_json({"endpoint", "list"}))
        zones[e["address"]] = e["zone"];
    EXPECT_NE(zones[a], 0u);
    EXPECT_EQ(zones[a], zones[b]) << "one bridge, one zone";
    EXPECT_NE(zones[a], zones[c]);
    const std::string dev_c = endpoint_dev(c);
    const std::uint64_t c_before = delivered_to(dev_c);
    const std::string across = podman({"exec", "a", "ping", "-c", "3", "-W", "2", c});
    EXPECT_NE(across.find("3 packets received"), std::string::npos) << "the host routes between the networks: " << across;
    EXPECT_EQ(delivered_to(dev_c), c_before) << "not short-circuited by flatpath";
    std::uint64_t other_zone = 0;
    const nlohmann::json stats = daemon->flatpath_json({"stats"});
    for (const auto &r : stats["reasons"])
        if (r["reason"] == "pass_other_zone")
            other_zone += r["packets"].get<std::uint64_t>();
    EXPECT_GE(other_zone, 3u) << stats.dump();

    podman({"rm", "-f", "-t", "0", "b"});
    EXPECT_TRUE(eventually([&] { return endpoint_dev(b) == ""; })) << daemon->log();
    EXPECT_NE(endpoint_dev(a), "");
}

// The policy labels make a container's firewall (POLICY_EGRESS_LABEL names the label, as
// the daemon's other settings are named): "a", labelled to start nothing, cannot ping "b"
// (drop_policy counts it), while "b" pings "a" (its ingress has no label: allowed, and a's
// answers belong to b's flow). The policy is listed on a's device and goes with it.
TEST_F(DaemonTest, PolicyLabelsMakeAContainersFirewall)
{
    ASSERT_NO_FATAL_FAILURE(daemon->start(flags(), {"POLICY_EGRESS_LABEL=fw.egress"}));
    const std::string a = run_labelled("a", "", {"sleep", "300"}, {"--label", "fw.egress=none"});
    const std::string b = run_labelled("b", "", {"sleep", "300"});
    ASSERT_TRUE(eventually([&] { return endpoint_dev(a) != "" && endpoint_dev(b) != ""; })) << daemon->log();
    const auto policy_rows = [&] { return daemon->flatpath_json({"policy", "list", "--json"}); };
    ASSERT_TRUE(eventually([&] { return policy_rows().size() == 2; })) << daemon->log();
    EXPECT_EQ(policy_rows()[1]["device"], endpoint_dev(a));
    EXPECT_EQ(policy_rows()[1]["direction"], "out");
    EXPECT_EQ(policy_rows()[1]["action"], "deny");

    const std::string denied = run_command(podman_argv({"exec", "a", "ping", "-c", "2", "-W", "1", b})).output;
    EXPECT_NE(denied.find("0 packets received"), std::string::npos) << denied;
    const std::string allowed = podman({"exec", "b", "ping", "-c", "3", "-W", "2", a});
    EXPECT_NE(allowed.find("3 packets received"), std::string::npos) << allowed;
    std::uint64_t drops = 0;
    const nlohmann::json stats = daemon->flatpath_json({"stats"}); // the loop must not outlive it
    for (const auto &r : stats["reasons"])
        if (r["reason"] == "drop_policy")
            drops += r["packets"].get<std::uint64_t>();
    EXPECT_GE(drops, 2u) << stats.dump();

    podman({"rm", "-f", "-t", "0", "a"});
    EXPECT_TRUE(eventually([&] { return policy_rows().empty(); })) << daemon->log();
}

// Network connect and disconnect events: a running labelled container that joins a
// second network gets its address there attached too, and loses it when it leaves.
TEST_F(DaemonTest, NetworkConnectAndDisconnectFollowTheContainer)
{
    ASSERT_NO_FATAL_FAILURE(daemon->start(flags()));
    const std::string first = run_labelled("multi", "", {"sleep", "300"});
    ASSERT_TRUE(eventually([&] { return endpoint_dev(first) != ""; })) << daemon->log();
    podman({"network", "connect", "brnet2", "multi"});
    const std::string second = inspect("multi", "{{(index .NetworkSettings.Networks \"brnet2\").IPAddress}}");
    ASSERT_TRUE(second.starts_with("10.68.0.")) << second;
    EXPECT_TRUE(eventually([&] { return endpoint_dev(second) != ""; })) << daemon->log();
    EXPECT_NE(endpoint_dev(second), endpoint_dev(first));
    podman({"network", "disconnect", "brnet2", "multi"});
    EXPECT_TRUE(eventually([&] { return endpoint_dev(second) == ""; })) << daemon->log();
    EXPECT_NE(endpoint_dev(first), "");
    EXPECT_EQ(daemon->metric("flatpath_daemon_events_total{kind=\"network_connect\"}"), 1);
    EXPECT_EQ(daemon->metric("flatpath_daemon_events_total{kind=\"network_disconnect\"}"), 1);
}

// Restart without loss: kill -9 of the daemon while a TCP stream runs through a published
// port: the stream goes on with every byte and no reset (pinned maps, attached programs,
// conntrack untouched). While it is down one labelled container starts and another is
// removed; the next daemon reconciles both (adds the one, removes the other's entries)
// and leaves the live one's entry alone, also when the new one was given the removed
// one's address.
TEST_F(DaemonTest, KillDashNineLosesNothingAndTheNextStartReconciles)
{
    ASSERT_NO_FATAL_FAILURE(daemon->start(flags()));
    const std::string sink = run_labelled("sink", "5001", {"sleep", "300"});
    const std::string gone = run_labelled("gone", "5003", {"sleep", "300"});
    ASSERT_TRUE(eventually([&] { return published("5001", sink) && published("5003", gone); })) << daemon->log();

    // The server listens inside the container's own network namespace.
    const std::string netns = inspect("sink", "{{.NetworkSettings.SandboxKey}}");
    constexpr std::size_t kChunk = 16384, kChunks = 200;
    NetnsTask server(netns, [&] {
        Socket l = bound_socket(IpAddr::parse(sink), 5001, SOCK_STREAM);
        ::listen(l.get(), 1);
        Socket c(::accept(l.get(), nullptr, nullptr));
        std::uint64_t got = 0;
        char buf[65536];
        for (ssize_t n; (n = ::recv(c.get(), buf, sizeof buf, 0)) != 0;) {
            if (n < 0)
                throw Error(std::string("server recv: ") + std::strerror(errno));
            got += static_cast<std::uint64_t>(n);
        }
        return std::to_string(got);
    });
    NetnsTask client(lan, [&] {
        const SockAddr to = sockaddr_of(IpAddr::parse("10.65.0.1"), 5001);
        std::optional<Socket> s;
        for (int attempt = 0; attempt < 50 && !s; ++attempt) { // until the server listens
            Socket c(::socket(AF_INET, SOCK_STREAM, 0));
            if (::connect(c.get(), to.ptr(), to.len) == 0)
                s.emplace(std::move(c));
            else
                ::usleep(50000);
        }
        if (!s)
            throw Error("cannot connect to 10.65.0.1:5001");
        const std::string chunk(kChunk, 'x');
        for (std::size_t i = 0; i < kChunks; ++i) { // about four seconds
            if (::send(s->get(), chunk.data(), chunk.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(chunk.size()))
                throw Error(std::string("client send: ") + std::strerror(errno));
            ::usleep(20000);
        }
        ::shutdown(s->get(), SHUT_WR);
        char b;
        if (::recv(s->get(), &b, 1, 0) != 0)
            throw Error(std::string("client: no clean close: ") + std::strerror(errno));
        return std::string("sent");
    });

    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    EXPECT_EQ(daemon->stop(SIGKILL), 128 + SIGKILL);
    podman({"rm", "-f", "-t", "0", "gone"});
    const std::string late = run_labelled("late", "5002", {"sleep", "300"}, {"--ip", gone}); // the gone one's address
    std::this_thread::sleep_for(std::chrono::milliseconds(1500)); // past the replay of recent events at start
    ASSERT_NO_FATAL_FAILURE(daemon->start(flags()));

    EXPECT_EQ(client.result(), "sent");
    EXPECT_EQ(server.result(), std::to_string(kChunk * kChunks)) << "every byte arrived";
    EXPECT_TRUE(eventually([&] { return published("5002", late) && !published("5003", gone); })) << daemon->log();
    EXPECT_TRUE(published("5001", sink));
    EXPECT_EQ(late, gone);
    const std::string late_dev = endpoint_dev(late);
    EXPECT_TRUE(late_dev.starts_with("veth")) << "the address is the new container's endpoint now: " << late_dev;
    const std::uint64_t before = delivered_to(late_dev);
    EXPECT_NE(podman({"exec", "sink", "ping", "-c", "2", "-W", "2", late}).find("2 packets received"), std::string::npos);
    EXPECT_GE(delivered_to(late_dev) - before, 2u) << "delivered to the new container through the fast path";
    EXPECT_EQ(daemon->log().find("unpublished tcp *:5001"), std::string::npos) << "the live entry was left alone";
}

// The runtime's socket goes away and comes back: the daemon reconnects with backoff and
// resyncs, picking up a container started meanwhile (whose start event it never saw
// live), and its metrics say so.
TEST_F(DaemonTest, SocketGoneAndBackLeadsToAResync)
{
    ASSERT_NO_FATAL_FAILURE(daemon->start(flags()));
    ASSERT_TRUE(eventually([&] { return daemon->metric("flatpath_daemon_runtime_connected") == 1; }));
    service.reset();
    fs::remove(sock);
    EXPECT_TRUE(eventually([&] { return daemon->metric("flatpath_daemon_runtime_connected") == 0; }));
    const std::string during = run_labelled("during", "7000", {"sleep", "300"});
    std::this_thread::sleep_for(std::chrono::seconds(1));
    EXPECT_FALSE(published("7000", during));
    ASSERT_NO_FATAL_FAILURE(start_service());
    EXPECT_TRUE(eventually([&] { return published("7000", during); })) << daemon->log();
    EXPECT_GE(daemon->metric("flatpath_daemon_connects_total"), 2);
    EXPECT_GE(daemon->metric("flatpath_daemon_resyncs_total"), 2);
    EXPECT_GE(daemon->metric("flatpath_daemon_connect_failures_total"), 1);
}

// A label publishes a port on every host address, also one added after the container
// started: the daemon's housekeeping follows the host's addresses.
TEST_F(DaemonTest, AnAddressAddedLaterServesPublishedPortsToo)
{
    ASSERT_NO_FATAL_FAILURE(daemon->start(flags()));
    const std::string web = run_labelled("web", "80", {"httpd", "-f", "-p", "80", "-h", "/www"});
    ASSERT_TRUE(eventually([&] { return published("80", web); })) << daemon->log();
    lab->in(host, {"ip", "addr", "add", "10.65.0.100/24", "dev", "uplink0"});
    EXPECT_EQ(fetch_from_lan("http://10.65.0.100/index.html"), "hello-from-flatpath\n");
    EXPECT_EQ(daemon->metric("flatpath_daemon_expired_flows_total"), 0);
}

// Reverse-path filtering without a warm-up: replies from a port another tool publishes
// (portmap's -p 8081:81) that the daemon marks are routed by `ip rule fwmark` out of a
// second uplink, to a client only that gateway reaches. With strict rp_filter and
// src_valid_mark (as such setups use), the stack drops those replies where they enter it
// (the bridge): `doctor` names exactly that interface and the uplink the requests come
// in on, and with loose mode on just those two the very first connection works.
TEST_F(DaemonTest, MarkedRepliesTakeTheirGatewayWithLooseRpFilterWhereDoctorSays)
{
    const std::string wan = lab->add_netns("wan");
    lab->add_veth(wan, "wan0", MacAddr::parse("02:fd:00:00:01:02"), host, "uplink1", MacAddr::parse("02:fd:00:00:01:01"));
    lab->in(wan, {"ip", "addr", "add", "10.64.0.2/24", "dev", "wan0"});
    lab->in(wan, {"ip", "addr", "add", "192.0.2.10/32", "dev", "wan0"}); // a client beyond the second gateway
    lab->in(host, {"ip", "addr", "add", "10.64.0.1/24", "dev", "uplink1"});
    lab->in(host, {"ip", "route", "add", "default", "via", "10.65.0.2"});
    lab->in(host, {"ip", "route", "add", "default", "via", "10.64.0.2", "table", "200"});
    lab->in(host, {"ip", "rule", "add", "fwmark", "0x10/0xff", "table", "200", "pref", "100"});
    lab->in(host, {"sysctl", "-qw", "net.ipv4.conf.all.src_valid_mark=1"});
    ASSERT_NO_FATAL_FAILURE(daemon->start(flags({"--uplink", "uplink1", "--mark-published-ports", "0x10/0xff"})));
    run_labelled("app", "", {"httpd", "-f", "-p", "81", "-h", "/www"}, {"-p", "8081:81"});
    ASSERT_TRUE(eventually([&] { return daemon->flatpath_json({"mark", "list"}).size() == 1; })) << daemon->log();

    const auto get_from_wan = [&] {
        return run_in_netns(wan, [] {
            Socket s(::socket(AF_INET, SOCK_STREAM, 0));
            const SockAddr from = sockaddr_of(IpAddr::parse("192.0.2.10"), 0);
            const SockAddr to = sockaddr_of(IpAddr::parse("10.64.0.1"), 8081);
            const timeval two_s{2, 0};
            ::setsockopt(s.get(), SOL_SOCKET, SO_SNDTIMEO, &two_s, sizeof two_s);
            ::setsockopt(s.get(), SOL_SOCKET, SO_RCVTIMEO, &two_s, sizeof two_s);
            if (::bind(s.get(), from.ptr(), from.len) != 0 || ::connect(s.get(), to.ptr(), to.len) != 0)
                return std::string("no connection: ") + std::strerror(errno);
            send_all(s.get(), "GET /index.html HTTP/1.0\r\n\r\n");
            return recv_all(s.get());
        });
    };
    lab->in(host, {"sysctl", "-qw", "net.ipv4.conf.uplink1.rp_filter=2"});
    EXPECT_EQ(get_from_wan().find("hello-from-flatpath"), std::string::npos) << "strict on the bridge drops the replies";

    lab->in(host, {"sysctl", "-qw", "net.ipv4.conf.uplink1.rp_filter=1"});
    const CommandResult doctor = run_command(
        {"nsenter", "--net=/run/netns/" + host, FLATPATH_BIN, "--pin-root", lab->pin_root(), "doctor", "--json"});
    EXPECT_EQ(doctor.status, 3) << doctor.output;
    std::vector<std::string> fixes;
    for (const auto &f : nlohmann::json::parse(doctor.output)) {
        const std::string fix = f["fix"];
        if (fix.starts_with("sysctl -w "))
            fixes.push_back(fix.substr(10, fix.find(' ', 10) - 10));
    }
    EXPECT_EQ(fixes, (std::vector<std::string>{"net.ipv4.conf.uplink1.rp_filter=2", "net.ipv4.conf.fpbr0.rp_filter=2"}))
        << doctor.output;
    for (const std::string &fix : fixes)
        lab->in(host, {"sysctl", "-qw", fix});
    EXPECT_NE(get_from_wan().find("hello-from-flatpath"), std::string::npos)
        << "the first connection, through the marked route, with no warm-up";
}

// The label-driven gateway on a VPN gateway whose VPN side is an L3 device (WireGuard's
// stand-in: a tun fed by a tun-over-UDP tunnel from the VPN client's namespace). The
// daemon, told the tun is an uplink, publishes the labelled port on the host's addresses,
// the tun's among them; the VPN client fetches the page through the tunnel (strict
// rp_filter, no warm-up), the server sees the client's own address, the replies go back
// into the tunnel, and flatpath delivered the requests.
TEST_F(DaemonTest, LabelsPublishToAVpnClientBehindATunUplink)
{
    const std::string vpnc = lab->add_netns("vpnc");
    lab->add_veth(host, "underlay0", MacAddr::parse("02:fd:00:00:02:01"), vpnc, "underlay0",
                  MacAddr::parse("02:fd:00:00:02:02"));
    lab->in(host, {"ip", "addr", "add", "10.60.0.1/30", "dev", "underlay0"});
    lab->in(vpnc, {"ip", "addr", "add", "10.60.0.2/30", "dev", "underlay0"});
    const UdpTunnel tunnel({host, "wg0", IpAddr::parse("10.60.0.1")}, {vpnc, "wg0", IpAddr::parse("10.60.0.2")}, 51820);
    for (const auto &[ns, addr] : {std::pair{host, "10.70.0.1/24"}, std::pair{vpnc, "10.70.0.2/24"}}) {
        lab->in(ns, {"ip", "addr", "add", addr, "dev", "wg0"});
        lab->in(ns, {"ip", "link", "set", "wg0", "up"});
    }
    ASSERT_NO_FATAL_FAILURE(daemon->start(flags({"--uplink", "wg0"})));
    const std::string web = run_labelled("web", "80", {"httpd", "-f", "-vv", "-p", "80", "-h", "/www"});
    ASSERT_TRUE(eventually([&] { return published("80", web); })) << daemon->log();
    const std::string dev = endpoint_dev(web);
    const std::uint64_t before = delivered_to(dev);

    EXPECT_EQ(fetch_from(vpnc, "http://10.70.0.1/index.html"), "hello-from-flatpath\n");
    EXPECT_NE(podman({"logs", "web"}).find("10.70.0.2"), std::string::npos) << "the server saw the VPN client's address";
    EXPECT_GT(delivered_to(dev), before) << "the fast path delivered the request";
    EXPECT_GT(tunnel.carried(), 0u);
}

} // namespace
} // namespace fp::test

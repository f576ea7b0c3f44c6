// `flatpath daemon` on its own: what it does with its flags, scripts and signals, and
// with garbage in the runtime's event stream (from a scripted runtime: a real Podman
// never sends garbage). No containers are needed, so no Podman runs here.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "daemon_fixture.hpp"
#include "lab.hpp"
#include "netns_scope.hpp"
#include "scripted_runtime.hpp"
#include "traffic.hpp"

namespace fp::test {
namespace {

namespace fs = std::filesystem;

class DaemonRunTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        lab = std::make_unique<Lab>("d");
        host = lab->add_netns("host");
        char tmpl[] = "/run/flatpath-daemon-test.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir = tmpl;
        sock = dir + "/runtime.sock";
        daemon = std::make_unique<DaemonRunner>(host, lab->pin_root(), dir);
    }
    void TearDown() override
    {
        if (daemon && daemon->process)
            daemon->stop(SIGTERM);
        runtime.reset();
        fs::remove_all(dir);
        lab.reset();
    }
    bool datapath_up() { return daemon->flatpath_json({"status"})["up"]; }
    std::string file(const std::string &name)
    {
        std::ifstream in(dir + "/" + name);
        std::string s;
        std::getline(in, s);
        return s;
    }

    std::unique_ptr<Lab> lab;
    std::string host, dir, sock;
    std::unique_ptr<ScriptedRuntime> runtime;
    std::unique_ptr<DaemonRunner> daemon;
};

// Garbage in the event stream — a line cut in the middle of its JSON, an event of a type
// nobody knows, a 10 MiB line, and a last line cut off by the end of the stream — is
// logged and skipped, one line each: the event after them is still handled, the daemon
// reconnects when the stream ends, and it is still running. Its log file has it all too.
TEST_F(DaemonRunTest, GarbageInTheEventStreamIsLoggedAndSkipped)
{
    std::vector<std::string> stream = {"{\"Type\":\"container\",\"Action\":\"sta\n",
                                       "{\"Type\":\"spaceship\",\"Action\":\"launch\",\"Actor\":{\"ID\":\"x1\"}}\n"};
    const std::string big(64 * 1024, 'x');
    for (int i = 0; i < 160; ++i) // 10 MiB, arriving in 64 KiB chunks
        stream.push_back(big);
    stream.push_back("\n{\"Type\":\"container\",\"Action\":\"start\",\"Actor\":{\"ID\":\"0123456789ab\",\"Attributes\":"
                     "{\"name\":\"ghost\"}}}\n");
    stream.push_back("{\"Type\":\"conta");
    runtime = std::make_unique<ScriptedRuntime>(sock, ScriptedRuntime::Dialect::Podman, stream);
    ASSERT_NO_FATAL_FAILURE(daemon->start({"--runtime-api", sock}));

    ASSERT_TRUE(eventually([&] { return runtime->event_requests() >= 2; })) << daemon->log();
    ASSERT_TRUE(eventually([&] { return daemon->metric("flatpath_daemon_runtime_connected") == 1; }));
    EXPECT_TRUE(daemon->process->running());
    EXPECT_EQ(daemon->metric("flatpath_daemon_skipped_lines_total"), 3) << daemon->log();
    EXPECT_EQ(daemon->metric("flatpath_daemon_events_total{kind=\"other\"}"), 1);
    EXPECT_EQ(daemon->metric("flatpath_daemon_events_total{kind=\"start\"}"), 1);
    EXPECT_GE(daemon->metric("flatpath_daemon_connects_total"), 2);
    const std::string log = daemon->log();
    EXPECT_NE(log.find("skipped a line (not a JSON object): {\"Type\":\"container\",\"Action\":\"sta"), std::string::npos)
        << log;
    EXPECT_NE(log.find("skipped a line longer than"), std::string::npos) << log;
    EXPECT_NE(log.find("cut off by the end of the stream"), std::string::npos) << log;
    // status: the daemon runs, and its last warnings are the skipped lines.
    nlohmann::json status = daemon->flatpath_json({"status", "--run-dir", daemon->run_dir()})["daemon"];
    EXPECT_EQ(status["state"], "running") << status;
    EXPECT_EQ(status["last_errors"].size(), 3u) << status;
    EXPECT_NE(status["last_errors"].dump().find("cut off by the end of the stream"), std::string::npos) << status;
    EXPECT_EQ(daemon->stop(SIGTERM), 0);
    status = daemon->flatpath_json({"status", "--run-dir", daemon->run_dir()})["daemon"];
    EXPECT_EQ(status["state"], "not running") << status;

    // The same lines are in the daemon's log file, where `flatpath logs` finds them.
    const CommandResult logs =
        run_command({FLATPATH_BIN, "logs", "--run-dir", daemon->run_dir(), "--state-dir", daemon->run_dir() + "/none"});
    EXPECT_EQ(logs.status, 0) << logs.output;
    EXPECT_NE(logs.output.find(" daemon warning: event stream: skipped a line longer than"), std::string::npos)
        << logs.output;
    EXPECT_NE(logs.output.find(" daemon info: following "), std::string::npos) << logs.output;
}

// The scripts get the daemon's environment (FLATPATH_PIN_ROOT included), SIGTERM runs the
// shutdown script and exits 0, and the datapath stays up for traffic to go on flowing.
TEST_F(DaemonRunTest, ScriptsRunAndSigtermLeavesTheDatapathUp)
{
    runtime = std::make_unique<ScriptedRuntime>(sock, ScriptedRuntime::Dialect::Podman);
    ASSERT_NO_FATAL_FAILURE(daemon->start({"--runtime-api", sock}, {"STARTUP_SCRIPT=echo \"$FLATPATH_PIN_ROOT $GREETING\" > " +
                                                                       dir + "/started",
                                                                   "SHUTDOWN_SCRIPT=echo bye > " + dir + "/stopped",
                                                                   "GREETING=hello"}));
    EXPECT_EQ(file("started"), lab->pin_root() + " hello");
    EXPECT_FALSE(fs::exists(dir + "/stopped"));
    EXPECT_EQ(daemon->stop(SIGTERM), 0);
    EXPECT_EQ(file("stopped"), "bye");
    EXPECT_TRUE(datapath_up());
}

// --remove-datapath-on-exit: SIGINT takes the datapath down (nothing else uses it).
TEST_F(DaemonRunTest, RemoveDatapathOnExitTakesItDown)
{
    runtime = std::make_unique<ScriptedRuntime>(sock, ScriptedRuntime::Dialect::Podman);
    ASSERT_NO_FATAL_FAILURE(daemon->start({"--runtime-api", sock, "--remove-datapath-on-exit"}));
    EXPECT_TRUE(datapath_up());
    EXPECT_EQ(daemon->stop(SIGINT), 0);
    EXPECT_FALSE(datapath_up());
}

// What stops a start, each with one clear line and nothing brought up: a failing startup
// script (its output shown), a second daemon on the same run directory, a malformed mark
// or metrics address.
TEST_F(DaemonRunTest, WhatStopsTheStartIsSaidAndLeavesNothing)
{
    const CommandResult script = run_command(daemon->argv({"--runtime-api", sock, "--startup-script",
                                                           "echo cannot-reach-the-gateway; exit 3"}));
    EXPECT_NE(script.status, 0);
    EXPECT_NE(script.output.find("flatpath: error: startup script 'echo cannot-reach-the-gateway; exit 3' failed with "
                                 "exit status 3:\ncannot-reach-the-gateway"),
              std::string::npos)
        << script.output;
    EXPECT_FALSE(datapath_up());

    // A port another process listens on.
    Socket taken = bound_socket_in_netns(host, IpAddr::parse("127.0.0.1"), kMetricsPort + 1, SOCK_STREAM);
    ASSERT_EQ(::listen(taken.get(), 1), 0);
    const std::string taken_port = "127.0.0.1:" + std::to_string(kMetricsPort + 1);

    const std::vector<std::pair<std::vector<std::string>, std::string>> refused = {
        {{"--mark-published-ports", "0x10/zz"}, "flatpath: error: "},
        {{"--metrics-listen", "localhost"}, "flatpath: error: --metrics-listen 'localhost': want ADDR:PORT"},
        {{"--metrics-listen", taken_port}, "flatpath: error: --metrics-listen " + taken_port + ": cannot listen on"},
        {{"--xdp-mode", "fast"}, "flatpath: error: --xdp-mode: fast not in {native,generic,auto,off}"},
    };
    for (const auto &[flags, message] : refused) {
        std::vector<std::string> f = {"--runtime-api", sock};
        f.insert(f.end(), flags.begin(), flags.end());
        const CommandResult r = run_command(daemon->argv(f));
        EXPECT_NE(r.status, 0) << flags[0];
        EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
        EXPECT_NE(r.output.find(message), std::string::npos) << r.output;
        EXPECT_FALSE(datapath_up()) << flags[0] << " " << flags[1];
    }

    runtime = std::make_unique<ScriptedRuntime>(sock, ScriptedRuntime::Dialect::Podman);
    ASSERT_NO_FATAL_FAILURE(daemon->start({"--runtime-api", sock}));
    const CommandResult second = run_command(daemon->argv({"--runtime-api", sock}));
    EXPECT_NE(second.status, 0);
    EXPECT_NE(second.output.find("another flatpath daemon is running"), std::string::npos) << second.output;
    EXPECT_TRUE(daemon->process->running());
}

// Docker's dialect, with real kernel objects behind it: a "container" namespace on a
// Linux bridge, as dockerd would make it, described by Docker-shaped answers (/_ping,
// /containers/json, /containers/{id}/json with "/name", SandboxKey and Ports, /events with
// "die" and "destroy"). The daemon recognises Docker, attaches the container's veth,
// publishes its labelled port from the LAN through XDP over IPv4 and IPv6 (the container
// is dual-stack) and marks its other published port; on "die" everything goes, the tc
// program included, though the veth is still there.
TEST_F(DaemonRunTest, DockerDialectDrivesAttachModeAndDieTakesItAllAway)
{
    const std::string ctr = lab->add_netns("ctr"), lan = lab->add_netns("lan");
    lab->in(host, {"ip", "link", "add", "docker0", "type", "bridge"});
    lab->in(host, {"ip", "addr", "add", "172.30.0.1/24", "dev", "docker0"});
    lab->in(host, {"ip", "link", "set", "docker0", "up"});
    lab->in(host, {"sysctl", "-qw", "net.ipv4.ip_forward=1"});
    const MacAddr mac = MacAddr::parse("02:42:ac:1e:00:02");
    lab->add_veth(ctr, "eth0", mac, host, "vethd0", MacAddr::parse("02:42:ac:1e:00:fe"));
    lab->in(host, {"ip", "link", "set", "vethd0", "master", "docker0"});
    lab->in(ctr, {"ip", "addr", "add", "172.30.0.2/24", "dev", "eth0"});
    lab->in(ctr, {"ip", "route", "add", "default", "via", "172.30.0.1"});
    lab->add_veth(lan, "lan0", MacAddr::parse("02:fd:00:00:00:02"), host, "uplink0", MacAddr::parse("02:fd:00:00:00:01"));
    lab->in(lan, {"ip", "addr", "add", "10.65.0.2/24", "dev", "lan0"});
    lab->in(host, {"ip", "addr", "add", "10.65.0.1/24", "dev", "uplink0"});
    // Dual stack (no duplicate address detection: the addresses are usable at once).
    lab->in(host, {"sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"});
    lab->in(host, {"ip", "-6", "addr", "add", "fd30::1/64", "dev", "docker0", "nodad"});
    lab->in(ctr, {"ip", "-6", "addr", "add", "fd30::2/64", "dev", "eth0", "nodad"});
    lab->in(ctr, {"ip", "-6", "route", "add", "default", "via", "fd30::1"});
    lab->in(host, {"ip", "-6", "addr", "add", "fd65::1/64", "dev", "uplink0", "nodad"});
    lab->in(lan, {"ip", "-6", "addr", "add", "fd65::2/64", "dev", "lan0", "nodad"});

    const std::string id(64, 'd');
    runtime = std::make_unique<ScriptedRuntime>(sock, ScriptedRuntime::Dialect::Docker);
    runtime->set_container(
        {{"Id", id},
         {"Name", "/web"},
         {"State", {{"Running", true}, {"Pid", 0}}},
         {"Config", {{"Labels", {{"network.enable", "true"}, {"network.dnat.ports", "8080"}}}}},
         {"NetworkSettings",
          {{"SandboxKey", "/run/netns/" + ctr},
           {"Ports", {{"9090/tcp", {{{"HostIp", "0.0.0.0"}, {"HostPort", "9090"}}}}, {"8080/tcp", nullptr}}},
           {"Networks",
            {{"bridge", {{"IPAddress", "172.30.0.2"}, {"GlobalIPv6Address", "fd30::2"}, {"MacAddress", mac.str()}}}}}}}});
    ASSERT_NO_FATAL_FAILURE(
        daemon->start({"--runtime-api", sock, "--uplink", "uplink0", "--mark-published-ports", "0x4/0xf"}));
    ASSERT_TRUE(eventually([&] { return !daemon->flatpath_json({"dnat", "list"}).empty(); })) << daemon->log();
    EXPECT_NE(daemon->log().find("following docker at " + sock), std::string::npos) << daemon->log();
    // The reconcile says how long it took (the bench reads it at 1,000 containers).
    EXPECT_GT(daemon->metric("flatpath_daemon_last_resync_seconds"), 0) << daemon->scrape();

    ASSERT_TRUE(eventually([&] { return daemon->flatpath_json({"dnat", "list"}).size() == 2; })) << daemon->log();
    const nlohmann::json dnat = daemon->flatpath_json({"dnat", "list"});
    std::set<std::string> backends;
    for (const auto &d : dnat) {
        EXPECT_EQ(d["ports"], "8080");
        backends.insert(d["backend"]);
    }
    EXPECT_EQ(backends, (std::set<std::string>{"172.30.0.2", "fd30::2"}));
    const nlohmann::json marks = daemon->flatpath_json({"mark", "list"});
    ASSERT_EQ(marks.size(), 2u) << "9090/tcp from each address";
    EXPECT_EQ(marks[0]["port"], 9090);
    const nlohmann::json eps = daemon->flatpath_json({"endpoint", "list"});
    ASSERT_EQ(eps.size(), 2u);
    for (const auto &e : eps) {
        EXPECT_EQ(e["dev"], "vethd0");
        EXPECT_EQ(e["mac"], mac.str());
    }
    EXPECT_NE(lab->in(host, {"tc", "filter", "show", "dev", "vethd0", "ingress"}), "");

    const Received r = tcp_transfer(ctr, {IpAddr::parse("172.30.0.2"), 8080}, lan, {IpAddr::parse("10.65.0.1"), 8080},
                                    1 << 20);
    EXPECT_EQ(r.bytes, 1u << 20);
    EXPECT_EQ(r.peer, "10.65.0.2");
    const Received r6 =
        tcp_transfer(ctr, {IpAddr::parse("fd30::2"), 8080}, lan, {IpAddr::parse("fd65::1"), 8080}, 1 << 20);
    EXPECT_EQ(r6.bytes, 1u << 20);
    EXPECT_EQ(r6.peer, "fd65::2");
    const nlohmann::json stats = daemon->flatpath_json({"stats"});
    EXPECT_GT(stats["endpoints"][0]["to_packets"].get<std::uint64_t>(), 0u) << stats.dump();

    ASSERT_TRUE(eventually([&] { return runtime->open_streams() == 1; }));
    runtime->remove_container(id);
    runtime->emit({{"status", "die"},
                   {"id", id},
                   {"Type", "container"},
                   {"Action", "die"},
                   {"Actor", {{"ID", id}, {"Attributes", {{"name", "web"}, {"exitCode", "0"}}}}},
                   {"scope", "local"}});
    EXPECT_TRUE(eventually([&] { return daemon->flatpath_json({"endpoint", "list"}).empty(); })) << daemon->log();
    EXPECT_TRUE(daemon->flatpath_json({"dnat", "list"}).empty());
    EXPECT_TRUE(daemon->flatpath_json({"mark", "list"}).empty());
    EXPECT_EQ(lab->in(host, {"tc", "filter", "show", "dev", "vethd0", "ingress"}), "") << "from_container detached";
    runtime->emit({{"Type", "container"}, {"Action", "destroy"}, {"Actor", {{"ID", id}, {"Attributes", nlohmann::json::object()}}}});
    EXPECT_TRUE(eventually([&] { return daemon->metric("flatpath_daemon_events_total{kind=\"removed\"}") == 1; }));
    EXPECT_EQ(daemon->metric("flatpath_daemon_events_total{kind=\"died\"}"), 1);
    EXPECT_EQ(daemon->metric("flatpath_daemon_problems_total"), 0);
}

} // namespace
} // namespace fp::test

// `flatpath trace` on real traffic: the binary runs beside real packets in the demo's
// topology and reports a real drop (the LAN sending from a container's address) and a
// real flow through a published port (created, then closed), in JSON and as lines; its
// filters narrow it; one trace runs at a time, a killed one's place is taken over, and
// wrong arguments are refused with one line.
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "background_process.hpp"
#include "demo.hpp"
#include "eventually.hpp"
#include "netns_fixture.hpp"
#include "packet.hpp"
#include "traffic.hpp"

namespace fp::test {
namespace {

// A `flatpath trace` running in the background, its output in a file of its own.
class TraceRun {
public:
    TraceRun(const Topology &topo, const std::vector<std::string> &args)
    {
        char path[] = "/tmp/fp-trace-XXXXXX";
        const int fd = ::mkstemp(path);
        if (fd >= 0)
            ::close(fd);
        path_ = path;
        std::vector<std::string> a = {"trace"};
        a.insert(a.end(), args.begin(), args.end());
        process = std::make_unique<BackgroundProcess>(topo.flatpath_argv(FLATPATH_BIN, a), path_);
    }
    ~TraceRun()
    {
        process.reset();
        std::filesystem::remove(path_);
    }
    std::string output() const
    {
        std::ifstream in(path_);
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    }
    // Events are on when it said so (or it ended).
    bool started() const
    {
        return eventually([&] { return output().find("tracing") != std::string::npos; }, 10);
    }
    std::vector<nlohmann::json> events() const
    {
        std::vector<nlohmann::json> out;
        std::istringstream lines(output());
        for (std::string line; std::getline(lines, line);)
            if (line.starts_with("{"))
                out.push_back(nlohmann::json::parse(line));
        return out;
    }

    std::unique_ptr<BackgroundProcess> process;

private:
    std::string path_;
};

class TraceNetnsTest : public NetnsTest {
protected:
    const IpAddr host4 = IpAddr::parse("10.90.0.1");

    // Frames from the LAN with c2's address as their source, to c1: spoofs, dropped.
    void send_spoofs(int n)
    {
        const MacAddr lan_mac =
            MacAddr::parse(lab->in(topo->lan_ns(), {"cat", "/sys/class/net/lan0/address"}).substr(0, 17));
        const MacAddr up_mac =
            MacAddr::parse(host({"cat", "/sys/class/net/" + topo->uplink() + "/address"}).substr(0, 17));
        Packet p;
        p.src_mac = lan_mac;
        p.dst_mac = up_mac;
        p.src = c2().v4;
        p.dst = c1().v4;
        p.dport = 7011;
        send_frames(topo->lan_ns(), "lan0", std::vector<Bytes>(static_cast<std::size_t>(n), p.bytes()));
    }

    static std::size_t count(const std::vector<nlohmann::json> &events, const std::function<bool(const nlohmann::json &)> &f)
    {
        return static_cast<std::size_t>(std::count_if(events.begin(), events.end(), f));
    }
};

// The default trace (drops and flows) while the LAN sends spoofed frames and then makes a
// TCP connection to a published port: each spoof is one drop event (drop_spoof_ip, on the
// uplink, with its addresses), and the connection one flow-new event (the LAN client to
// the host's port, translated to the container's) and one flow-closed event when it
// ends. Stopped with Ctrl-C, the trace exits 0, and another can start at once.
TEST_F(TraceNetnsTest, ARealDropAndARealFlowAreTraced)
{
    start();
    flatpath({"dnat", "add", "tcp", "8080", c1().v4.str() + ":7001", "--host-ip", host4.str()});
    TraceRun trace(*topo, {"--json"});
    ASSERT_TRUE(trace.started()) << trace.output();

    send_spoofs(5);
    const Received got = tcp_transfer(c1().ns, {c1().v4, 7001}, topo->lan_ns(), {host4, 8080}, 1 << 16);
    EXPECT_EQ(got.bytes, 1u << 16);
    const auto is_drop = [&](const nlohmann::json &e) {
        return e["kind"] == "drop" && e["reason"] == "drop_spoof_ip" && e["dev"] == topo->uplink() &&
               e["before"]["src"] == c2().v4.str() && e["before"]["dst"] == c1().v4.str() &&
               e["before"]["dport"] == 7011;
    };
    const auto is_flow = [&](const char *kind) {
        return [&, kind](const nlohmann::json &e) {
            return e["kind"] == kind && e["flow"] == "dnat" && e["before"]["src"] == topo->lan_v4().str() &&
                   e["before"]["dst"] == host4.str() && e["before"]["dport"] == 8080 &&
                   e["after"]["dst"] == c1().v4.str() && e["after"]["dport"] == 7001;
        };
    };
    EXPECT_TRUE(eventually([&] { return count(trace.events(), is_drop) == 5 && count(trace.events(), is_flow("flow-closed")) == 1; }, 10))
        << trace.output();
    EXPECT_EQ(count(trace.events(), is_flow("flow-new")), 1u) << trace.output();
    EXPECT_EQ(count(trace.events(), [](const nlohmann::json &e) { return e["kind"] == "forward"; }), 0u)
        << "forwarding decisions are only traced with -v";

    EXPECT_EQ(trace.process->stop(SIGINT), 0) << trace.output();
    TraceRun next(*topo, {"--timeout", "1"});
    EXPECT_TRUE(eventually([&] { return !next.process->running(); }, 10));
    EXPECT_EQ(next.process->stop(SIGTERM), 0) << next.output();
    EXPECT_EQ(next.output().find("error"), std::string::npos) << next.output();
}

// Policy verdicts (--policy): c1 may only start UDP to c2:7002; its flow there is one
// policy-allow event (its first datagram; the others belong to the flow), its datagrams to
// port 7003 drop events with the reason drop_policy, on c1's device; nothing else.
TEST_F(TraceNetnsTest, PolicyVerdictsAreTraced)
{
    start();
    flatpath({"policy", "default", c1().host_if, "deny", "--out"});
    flatpath({"policy", "add", c1().host_if, "--allow", "--proto", "udp", "--port", "7002"});
    TraceRun trace(*topo, {"--json", "--policy"});
    ASSERT_TRUE(trace.started()) << trace.output();
    EXPECT_EQ(udp_send(c2().ns, c2().v4, 7002, c1().ns, 5).messages, 5u);
    EXPECT_EQ(udp_send(c2().ns, c2().v4, 7003, c1().ns, 3).messages, 0u);
    const auto from_c1_to = [&](const char *kind, int port) {
        return [&, kind, port](const nlohmann::json &e) {
            return e["kind"] == kind && e["dev"] == c1().host_if && e["before"]["src"] == c1().v4.str() &&
                   e["before"]["dst"] == c2().v4.str() && e["before"]["dport"] == port;
        };
    };
    EXPECT_TRUE(eventually([&] { return count(trace.events(), from_c1_to("drop", 7003)) == 3; }, 10)) << trace.output();
    EXPECT_EQ(count(trace.events(), from_c1_to("policy-allow", 7002)), 1u) << trace.output();
    EXPECT_EQ(trace.events().size(), 4u) << trace.output();
    for (const auto &e : trace.events()) {
        if (e["kind"] == "drop") {
            EXPECT_EQ(e["reason"], "drop_policy");
        }
    }
}

// Filters and -v: a verbose trace of c1's device stops by itself after 3 events while
// the LAN pings c1, each a line of c1's device or address (the pings forwarded to it,
// its answers handed to the stack, its own neighbour discovery); a trace of another
// address sees none of the LAN's spoofs.
TEST_F(TraceNetnsTest, FiltersNarrowTheTrace)
{
    start();
    {
        TraceRun mine(*topo, {"-v", "--endpoint", c1().host_if, "--count", "3"});
        ASSERT_TRUE(mine.started()) << mine.output();
        ping(topo->lan_ns(), c1().v4.str(), 3);
        ASSERT_TRUE(eventually([&] { return !mine.process->running(); }, 10)) << mine.output();
        EXPECT_EQ(mine.process->stop(SIGTERM), 0);
        std::istringstream lines(mine.output());
        std::size_t events = 0, forwarded = 0;
        for (std::string line; std::getline(lines, line);) {
            if (line.starts_with("tracing"))
                continue;
            ++events;
            forwarded += line.find(" forward redirect ") != std::string::npos;
            EXPECT_TRUE(line.find(" " + c1().host_if + " ") != std::string::npos ||
                        line.find(c1().v4.str()) != std::string::npos)
                << line;
        }
        EXPECT_EQ(events, 3u) << mine.output();
        EXPECT_GE(forwarded, 1u) << "the LAN's pings, delivered by flatpath: " << mine.output();
    }
    TraceRun other(*topo, {"--json", "--ip", "10.90.0.200", "--timeout", "2"});
    ASSERT_TRUE(other.started()) << other.output();
    send_spoofs(5);
    EXPECT_TRUE(eventually([&] { return !other.process->running(); }, 10));
    EXPECT_EQ(other.process->stop(SIGTERM), 0);
    EXPECT_TRUE(other.events().empty()) << other.output();
}

// One trace at a time: a second is refused with one line naming the first's process; a
// trace killed (no chance to turn its events off) shows in status as abandoned, and does
// not block the next one, which takes its place.
TEST_F(TraceNetnsTest, OneTraceAtATimeAndAKilledOneIsReplaced)
{
    start();
    TraceRun first(*topo, {});
    ASSERT_TRUE(first.started()) << first.output();
    const CommandResult second = flatpath_result({"trace", "--timeout", "1"});
    EXPECT_NE(second.status, 0);
    EXPECT_NE(second.output.find("another flatpath trace (pid"), std::string::npos) << second.output;
    EXPECT_EQ(std::count(second.output.begin(), second.output.end(), '\n'), 1) << second.output;
    EXPECT_EQ(flatpath_json({"status", "--json"})["trace"]["state"], "on");
    first.process->stop(SIGKILL);
    // Its events are still on: status says so, as a problem.
    const CommandResult st = flatpath_result({"status", "--json"});
    EXPECT_EQ(st.status, 3) << st.output;
    EXPECT_EQ(nlohmann::json::parse(st.output)["trace"]["state"], "abandoned") << st.output;

    TraceRun after(*topo, {"--json", "--drops"});
    ASSERT_TRUE(after.started()) << after.output();
    send_spoofs(2);
    EXPECT_TRUE(eventually([&] { return after.events().size() == 2; }, 10)) << after.output();
}

// Wrong arguments: one line each, naming what was wrong, and no trace left running.
TEST_F(TraceNetnsTest, WrongArgumentsAreRefusedWithOneLine)
{
    start();
    const auto nothing = [] { return 0; };
    expect_refused_keeping({"trace", "--reason", "drop_nonsense"}, "--reason: unknown reason 'drop_nonsense'", nothing);
    expect_refused_keeping({"trace", "--endpoint", "10.88.7.7"}, "--endpoint: 10.88.7.7 is no endpoint", nothing);
    expect_refused_keeping({"trace", "--endpoint", "nosuchdev0"}, "nosuchdev0", nothing);
    expect_refused_keeping({"trace", "--proto", "sctp"}, "--proto: unknown protocol 'sctp'", nothing);
    expect_refused_keeping({"trace", "--ip", "10.1.1"}, "10.1.1", nothing);
    // None of them left a filter behind: a trace starts.
    TraceRun after(*topo, {"--timeout", "1"});
    EXPECT_TRUE(eventually([&] { return !after.process->running(); }, 10));
    EXPECT_EQ(after.process->stop(SIGTERM), 0) << after.output();
}

} // namespace
} // namespace fp::test

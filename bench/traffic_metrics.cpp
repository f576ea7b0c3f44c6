#include "traffic_metrics.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "background_process.hpp"
#include "command.hpp"
#include "error.hpp"
#include "flood_frames.hpp"
#include "netns_task.hpp"
#include "packet.hpp"
#include "sockets.hpp"

namespace fp::bench {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::string whole_seconds(double seconds)
{
    return std::to_string(std::max(1L, std::lround(seconds)));
}

// Runs a client command until it gets through: the server may still be starting.
CommandResult run_client(const std::vector<std::string> &argv, const std::string &ready_marker)
{
    CommandResult r;
    for (int attempt = 0; attempt < 50; ++attempt) {
        r = run_command(argv);
        if (r.status == 0 && r.output.find(ready_marker) != std::string::npos)
            return r;
        std::this_thread::sleep_for(100ms);
    }
    throw Error(command_line(argv) + " failed: " + r.output.substr(0, 400));
}

double percentile(const std::string &sockperf_output, const std::string &which)
{
    std::smatch m;
    const std::regex re("percentile " + which + " = +([0-9.]+)");
    if (!std::regex_search(sockperf_output, m, re))
        throw Error("sockperf printed no " + which + " percentile");
    return std::stod(m[1]);
}

// Accepts and closes connections until none came for half a second after the first
// (or `limit` passed); returns how many.
std::string accept_loop(std::chrono::duration<double> limit)
{
    const Socket s = bound_socket(IpAddr::parse("0.0.0.0"), kConnectPort, SOCK_STREAM);
    if (::listen(s.get(), 4096) != 0)
        throw_errno("listen on tcp port " + std::to_string(kConnectPort), errno);
    const timeval idle{0, 500000};
    ::setsockopt(s.get(), SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof idle);
    std::uint64_t accepted = 0;
    const auto end = Clock::now() + limit;
    while (Clock::now() < end) {
        const int c = ::accept(s.get(), nullptr, nullptr);
        if (c >= 0) {
            ::close(c);
            ++accepted;
        } else if (errno == EAGAIN && accepted > 0) {
            break;
        }
    }
    return std::to_string(accepted);
}

// Connects, then closes with a reset (SO_LINGER 0: no TIME_WAIT, so the client's ports
// never run out), as fast as it can for `seconds`; returns connections per second.
std::string connect_loop(const IpAddr &target, double seconds)
{
    const SockAddr to = sockaddr_of(target, kConnectPort);
    const linger reset{1, 0};
    const auto connect_once = [&] {
        const Socket s(::socket(to.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
        ::setsockopt(s.get(), SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
        return ::connect(s.get(), to.ptr(), to.len) == 0;
    };
    const auto ready_by = Clock::now() + 5s; // the server may still be starting
    while (!connect_once()) {
        if (Clock::now() > ready_by)
            throw Error("cannot connect to " + target.str() + ":" + std::to_string(kConnectPort));
        std::this_thread::sleep_for(50ms);
    }
    std::uint64_t done = 0;
    const auto start = Clock::now();
    const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    while (Clock::now() < end)
        done += connect_once() ? 1 : 0;
    return std::to_string(static_cast<double>(done) / std::chrono::duration<double>(Clock::now() - start).count());
}

} // namespace

double iperf_gbits(const std::string &server_ns, const std::string &client_ns, const IpAddr &target, double seconds)
{
    BackgroundProcess server({"ip", "netns", "exec", server_ns, "iperf3", "-s", "-p", std::to_string(kThroughputPort)});
    const CommandResult r = run_client({"ip", "netns", "exec", client_ns, "iperf3", "-c", target.str(), "-p",
                                        std::to_string(kThroughputPort), "-t", whole_seconds(seconds), "-J"},
                                       "sum_received");
    const auto j = nlohmann::json::parse(r.output);
    return j["end"]["sum_received"]["bits_per_second"].get<double>() / 1e9;
}

Latency sockperf_latency(const std::string &server_ns, const std::string &client_ns, const IpAddr &target,
                         double seconds)
{
    BackgroundProcess server(
        {"ip", "netns", "exec", server_ns, "sockperf", "server", "-i", "0.0.0.0", "-p", std::to_string(kPingPongPort)});
    std::this_thread::sleep_for(200ms);
    const CommandResult r = run_client({"ip", "netns", "exec", client_ns, "sockperf", "ping-pong", "-i", target.str(),
                                        "-p", std::to_string(kPingPongPort), "-t", whole_seconds(seconds)},
                                       "percentile 50.000");
    return {percentile(r.output, "50.000"), percentile(r.output, "99.000")};
}

double connect_rate(const std::string &server_ns, const std::string &client_ns, const IpAddr &target, double seconds)
{
    NetnsTask server(server_ns, [&] { return accept_loop(std::chrono::duration<double>(seconds + 10)); });
    const double rate = std::stod(run_in_netns(client_ns, [&] { return connect_loop(target, seconds); }));
    const std::uint64_t accepted = std::stoull(server.result());
    if (accepted == 0)
        throw Error("the connection-rate server accepted nothing");
    return rate;
}

FloodOutcome conntrack_flood(Testbed &tb, std::uint64_t flows)
{
    FloodPlan plan;
    plan.client_ns = tb.client_ns();
    plan.client_dev = tb.client_dev();
    plan.client_addr = tb.client_addr();
    plan.host_ns = tb.host_ns();
    plan.backend_ns = tb.container_ns();
    plan.backend_port = kConnectPort;
    plan.published = tb.target();
    plan.published_port = kConnectPort;
    plan.flows = flows;
    Packet syn;
    syn.src_mac = tb.client_mac();
    syn.dst_mac = tb.next_hop_mac();
    syn.src = IpAddr::parse("198.18.0.1");
    syn.dst = tb.target();
    syn.proto = IPPROTO_TCP;
    syn.tcp_flags = 0x02;
    syn.sport = FloodFrames::kFirstPort;
    syn.dport = kConnectPort;
    syn.payload = 0;
    plan.syn = syn.bytes();
    return run_conntrack_flood(plan);
}

} // namespace fp::bench

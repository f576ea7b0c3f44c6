#include "conntrack_flood.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "command.hpp"
#include "error.hpp"
#include "flood_frames.hpp"
#include "frame_generator.hpp"
#include "netns_scope.hpp"
#include "sockets.hpp"

namespace fp {

namespace {

// What is there after waiting up to timeout_ms; "" on EOF or timeout.
std::string read_some(int fd, int timeout_ms)
{
    if (!readable(fd, timeout_ms))
        return "";
    char buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
}

struct Connection {
    Socket client;
    Socket server;
};

Connection connect_through(const FloodPlan &plan, int listener)
{
    Socket client = socket_in_netns(plan.client_ns, AF_INET, SOCK_STREAM);
    const SockAddr to = sockaddr_of(plan.published, plan.published_port);
    if (::connect(client.get(), to.ptr(), to.len) != 0)
        throw_errno("connect to the published port " + plan.published.with_port(std::to_string(plan.published_port)), errno);
    if (!readable(listener, 5000))
        throw Error("the flood's backend saw no connection");
    return Connection{std::move(client), Socket(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC))};
}

bool exchange(const Socket &from, const Socket &to, const std::string &what)
{
    return send_all(from.get(), what) && read_some(to.get(), 5000) == what;
}

// The host's route back to the client's side for the flood's sources (a /15 from the
// first one: 60 addresses for 3 million flows), while it lives.
class RouteBack {
public:
    explicit RouteBack(const FloodPlan &plan, const FloodFrames &flood)
        : host_ns_(plan.host_ns)
    {
        fp_addr net = flood.source(0).raw();
        net.w[3] &= htonl(0xfffe0000);
        prefix_ = IpAddr::from_raw(net).str() + "/15";
        run_checked({"ip", "-n", host_ns_, "route", "add", prefix_, "via", plan.client_addr.str()});
    }
    RouteBack(const RouteBack &) = delete;
    RouteBack &operator=(const RouteBack &) = delete;
    ~RouteBack()
    {
        try {
            run_checked({"ip", "-n", host_ns_, "route", "del", prefix_});
        } catch (const std::exception &) {
            // the namespace went first: so did the route
        }
    }

private:
    std::string host_ns_, prefix_;
};

} // namespace

FloodOutcome run_conntrack_flood(const FloodPlan &plan)
{
    FloodOutcome out;
    const FloodFrames flood(plan.syn);
    const RouteBack route(plan, flood);
    const Socket listener = [&] {
        const NetnsScope in_backend(plan.backend_ns);
        return bound_socket(IpAddr::parse("0.0.0.0"), plan.backend_port, SOCK_STREAM);
    }();
    if (::listen(listener.get(), 128) != 0)
        throw_errno("listen on the flood's backend port", errno);
    Connection stream = connect_through(plan, listener.get());
    Connection idle = connect_through(plan, listener.get());
    if (!exchange(idle.client, idle.server, "hello"))
        throw Error("the idle connection carried nothing before the flood");

    const auto stream_start = std::chrono::steady_clock::now();
    std::atomic<bool> flooding{true};
    std::atomic<std::uint64_t> sent{0}, received{0}, during{0};
    std::thread writer([&] {
        // 16 MB/s: a busy connection that leaves the CPUs to the flood.
        const std::string chunk(16384, 'x');
        while (flooding && send_all(stream.client.get(), chunk)) {
            sent += chunk.size();
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        ::shutdown(stream.client.get(), SHUT_WR);
    });
    std::thread reader([&] {
        char buf[65536];
        while (readable(stream.server.get(), 20000)) {
            const ssize_t n = ::recv(stream.server.get(), buf, sizeof buf, 0);
            if (n <= 0)
                break;
            received += static_cast<std::uint64_t>(n);
            if (flooding)
                during += static_cast<std::uint64_t>(n);
        }
    });
    // The stream ends (and its threads with it) also when the flood fails.
    const auto end_stream = [&] {
        flooding = false;
        writer.join();
        reader.join();
    };
    try {
        NetnsScope in_client(plan.client_ns);
        out.seconds = send_made_frames(plan.client_dev, plan.flows, flood);
    } catch (...) {
        end_stream();
        throw;
    }
    std::this_thread::sleep_for(std::chrono::seconds(1)); // the last SYNs answered
    out.stream_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - stream_start).count();
    end_stream();
    out.flows_per_second = plan.flows / out.seconds;
    out.stream_sent = sent;
    out.stream_received = received;
    out.received_during_flood = during;
    out.idle_answers = exchange(idle.server, idle.client, "still here") && exchange(idle.client, idle.server, "so am I");
    return out;
}

} // namespace fp

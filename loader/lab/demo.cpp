#include "demo.hpp"

#include <unistd.h>

#include <iostream>
#include <regex>

#include "command.hpp"
#include "ip_addr.hpp"
#include "error.hpp"
#include "lab.hpp"
#include "stop_signals.hpp"
#include "topology.hpp"
#include "traffic.hpp"

namespace fp {

namespace {

// Ctrl-C and kill reach the commands the demo runs as well; their failure (or this
// check) unwinds the demo, and the Lab's destructor removes everything.
void check_interrupted()
{
    if (stop_requested())
        throw Error("interrupted");
}

std::string self_exe()
{
    char buf[4096];
    const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0)
        throw Error("cannot find the flatpath binary (/proc/self/exe)");
    return std::string(buf, static_cast<std::size_t>(n));
}

class Demo {
public:
    explicit Demo(const DemoOptions &opts) : opts_(opts), bin_(self_exe()) {}

    void run()
    {
        heading("building the namespaces (a LAN client, a host, two containers)");
        Lab lab("d");
        Topology topo(lab, [](const std::string &s) {
            std::cout << "  " << s << "\n";
            check_interrupted();
        });

        heading("starting the datapath in the host namespace");
        flatpath(topo, {"up", "--uplink", topo.uplink(), "--xdp-mode", opts_.xdp_mode});
        for (const Container &c : topo.containers())
            flatpath(topo, {"endpoint", "add", c.v4.str(), c.v6.str(), "--dev", c.host_if, "--mac", c.mac.str()});
        flatpath(topo, {"status"});

        const Container &c1 = topo.containers()[0];
        const Container &c2 = topo.containers()[1];
        heading("container c1 -> container c2: tc on fpc1 hands packets straight into c2 (bpf_redirect_peer)");
        const std::uint64_t fwd_before = stack_forwarded(topo.host_ns());
        check_ping(c1.ns, c2.v4);
        check_ping(c1.ns, c2.v6);
        check_tcp(c2.ns, c2.v4, c1.ns, c1.v4);
        check_tcp(c2.ns, c2.v6, c1.ns, c1.v6);
        const std::uint64_t fwd_c2c = stack_forwarded(topo.host_ns()) - fwd_before;
        std::cout << "  the host's own IP forwarding handled " << fwd_c2c << " packets meanwhile\n";
        if (fwd_c2c != 0)
            failures_++;

        heading("LAN -> container c1: uplink0's programs (tc on this veth in auto mode; XDP on a NIC) hand it to fpc1");
        check_ping(topo.lan_ns(), c1.v4);
        check_ping(topo.lan_ns(), c1.v6);
        check_tcp(c1.ns, c1.v4, topo.lan_ns(), topo.lan_v4());
        check_tcp(c1.ns, c1.v6, topo.lan_ns(), topo.lan_v6());
        const std::uint64_t fwd_lan_before = stack_forwarded(topo.host_ns());
        const Received udp = udp_send(c1.ns, c1.v4, 5002, topo.lan_ns(), 1000);
        const std::uint64_t fwd_lan = stack_forwarded(topo.host_ns()) - fwd_lan_before;
        std::cout << "  UDP: " << udp.messages << "/1000 datagrams from " << topo.lan_v4().str() << " arrived from "
                  << udp.peer << "; the host stack forwarded " << fwd_lan << " of them\n";
        if (udp.messages != 1000 || udp.peer != topo.lan_v4().str() || fwd_lan != 0)
            failures_++;

        heading("a published port: LAN -> 10.90.0.1:8080 is DNAT'd on uplink0 to c1:5001, the client's address kept");
        const IpAddr host4 = IpAddr::parse("10.90.0.1");
        flatpath(topo, {"dnat", "add", "tcp", "8080", c1.v4.str() + ":5001", "--host-ip", host4.str()});
        const Received pub = tcp_transfer(c1.ns, {c1.v4, 5001}, topo.lan_ns(), {host4, 8080}, opts_.tcp_bytes);
        std::cout << "  TCP to " << host4.str() << ":8080: " << pub.bytes << "/" << opts_.tcp_bytes
                  << " bytes arrived at c1:5001, which saw them come from " << pub.peer << "\n";
        if (pub.bytes != opts_.tcp_bytes || pub.peer != topo.lan_v4().str())
            failures_++;
        flatpath(topo, {"ct", "list"});

        heading("counters: 'to' packets were delivered by flatpath; reasons say what went to the stack");
        flatpath(topo, {"stats"});

        heading("cleaning up");
        flatpath(topo, {"down"});
        std::cout << "  removing namespaces " << lab_prefix("d") << "-*\n";
    }

    int failures() const { return failures_; }

private:
    void heading(const std::string &title)
    {
        check_interrupted();
        std::cout << "\n[" << ++step_ << "/7] " << title << "\n";
    }

    void flatpath(const Topology &topo, const std::vector<std::string> &args)
    {
        check_interrupted();
        std::cout << "  $ flatpath " << command_line(args) << "\n";
        const std::string out = topo.flatpath(bin_, args);
        std::istringstream lines(out);
        for (std::string line; std::getline(lines, line);)
            std::cout << "    " << line << "\n";
    }

    void check_ping(const std::string &ns, const IpAddr &to)
    {
        check_interrupted();
        const unsigned got = ping(ns, to.str(), 3);
        std::cout << "  ping " << to.str() << ": " << got << "/3 replies\n";
        if (got != 3)
            failures_++;
    }

    void check_tcp(const std::string &server_ns, const IpAddr &server, const std::string &client_ns,
                   const IpAddr &client)
    {
        check_interrupted();
        const Received r = tcp_transfer(server_ns, server, 5001, client_ns, opts_.tcp_bytes);
        std::cout << "  TCP to " << server.str() << ":5001: " << r.bytes << "/" << opts_.tcp_bytes
                  << " bytes arrived, the server saw them come from " << r.peer << "\n";
        if (r.bytes != opts_.tcp_bytes || r.peer != client.str())
            failures_++;
    }

    DemoOptions opts_;
    std::string bin_;
    int step_ = 0;
    int failures_ = 0;
};

} // namespace

unsigned ping(const std::string &ns, const std::string &addr, unsigned count)
{
    const CommandResult r = run_command({"ip", "netns", "exec", ns, "ping", "-n", "-q", "-c", std::to_string(count),
                                         "-i", "0.2", "-W", "2", addr});
    std::smatch m;
    static const std::regex received(R"((\d+) received)");
    if (!std::regex_search(r.output, m, received))
        throw Error("ping " + addr + " in " + ns + " failed: " + r.output);
    return static_cast<unsigned>(std::stoul(m[1]));
}

int run_demo(const DemoOptions &opts)
{
    stop_on_signals();

    std::cout << "flatpath demo: containers and a LAN client in network namespaces of their own;\n"
                 "nothing outside them is changed, and everything is removed at the end.\n";
    Demo demo(opts);
    demo.run();
    if (demo.failures() != 0) {
        std::cout << "\ndemo FAILED: " << demo.failures() << " check(s) above did not hold\n";
        return 1;
    }
    std::cout << "\ndemo passed: traffic to the containers was delivered by flatpath's programs, not by the\n"
                 "host's IP forwarding (replies to the LAN leave through the host stack, as routed traffic does)\n";
    return 0;
}

} // namespace fp

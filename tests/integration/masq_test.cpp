// Egress masquerade in the datapath: containers reach a LAN that has no route to their
// subnets, as the host, with no iptables or nft rule; flows of two containers never share
// a host port; replies, pings and ICMP errors find their way back; flows go with their
// container; a full port range drops new flows only.
#include <netinet/in.h>

#include <future>
#include <set>
#include <thread>

#include "demo.hpp"
#include "error.hpp"
#include "netns_fixture.hpp"
#include "netns_scope.hpp"
#include "sockets.hpp"

namespace fp::test {
namespace {

constexpr std::uint16_t kTcpPort = 7001, kUdpPort = 7002;

class MasqNetnsTest : public NetnsTest {
protected:
    const IpAddr host4 = IpAddr::parse("10.90.0.1");
    const IpAddr host6 = IpAddr::parse("fd90::1");

    void SetUp() override
    {
        NetnsTest::SetUp();
        // A LAN that knows nothing of the containers' subnets, as a real one: only
        // masquerading brings their replies back.
        lab->in(topo->lan_ns(), {"ip", "route", "del", "10.91.0.0/24"});
        lab->in(topo->lan_ns(), {"ip", "-6", "route", "del", "fd91::/64"});
    }

    void masquerade()
    {
        flatpath({"masq", "add", "10.91.0.0/24"});
        flatpath({"masq", "add", "fd91::/64"});
    }

    const IpAddr &lan(const IpAddr &family) const { return family.is_v4() ? topo->lan_v4() : topo->lan_v6(); }
    const IpAddr &host_addr(const IpAddr &family) const { return family.is_v4() ? host4 : host6; }

    nlohmann::json masq_flows()
    {
        nlohmann::json out = nlohmann::json::array();
        for (const auto &f : flatpath_json({"ct", "list", "--json"}))
            if (f["kind"] == "masq")
                out.push_back(f);
        return out;
    }
};

// A UDP server that echoes every datagram to its sender and remembers who sent it.
struct UdpEcho {
    Socket sock;
    std::set<std::string> peers;

    // Echoes what arrives within timeout_ms of each other.
    void serve(int timeout_ms)
    {
        char buf[256];
        while (readable(sock.get(), timeout_ms)) {
            sockaddr_storage from{};
            socklen_t len = sizeof from;
            const ssize_t n = ::recvfrom(sock.get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr *>(&from), &len);
            if (n <= 0)
                break;
            peers.insert(address_port_of(from));
            ::sendto(sock.get(), buf, static_cast<size_t>(n), 0, reinterpret_cast<sockaddr *>(&from), len);
        }
    }
};

// Sends text from s to `to` and returns the answer ("" when none came within wait_ms).
std::string ask(const Socket &s, const SockTarget &to, const std::string &text, int wait_ms = 1000)
{
    const SockAddr dst = sockaddr_of(to.addr, to.port);
    ::sendto(s.get(), text.data(), text.size(), 0, dst.ptr(), dst.len);
    if (!readable(s.get(), wait_ms))
        return "";
    char buf[256];
    const ssize_t n = ::recv(s.get(), buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

// Without a rule the LAN cannot answer a container (it has no route back); with one,
// TCP, UDP and pings of both families reach it from the host's address, the replies are
// delivered by flatpath (the host stack forwards nothing either way), and the flows are
// listed as masqueraded, from ports of the masquerade range.
TEST_F(MasqNetnsTest, ContainersReachTheLanAsTheHost)
{
    start();
    EXPECT_EQ(ping(c1().ns, topo->lan_v4().str(), 1), 0u) << "the LAN answered a container it has no route to";
    masquerade();
    for (const Container *c : {&c1(), &c2()}) {
        for (const IpAddr *family : {&c->v4, &c->v6}) {
            SCOPED_TRACE(c->name + " " + family->str());
            const IpAddr &server = lan(*family);
            const std::uint64_t fwd_before = stack_forwarded(topo->host_ns());
            const std::uint64_t to_before = delivered_to(c->host_if);
            const Received tcp = tcp_transfer(topo->lan_ns(), server, kTcpPort, c->ns, 1 << 20);
            EXPECT_EQ(tcp.bytes, 1u << 20);
            EXPECT_EQ(tcp.peer, host_addr(*family).str());
            const Received udp = udp_send(topo->lan_ns(), server, kUdpPort, c->ns, 200);
            EXPECT_EQ(udp.messages, 200u);
            EXPECT_EQ(udp.peer, host_addr(*family).str());
            EXPECT_EQ(ping(c->ns, server.str(), 2), 2u);
            EXPECT_EQ(stack_forwarded(topo->host_ns()) - fwd_before, 0u) << "the host stack forwarded them";
            EXPECT_GT(delivered_to(c->host_if) - to_before, 2u) << "flatpath did not deliver the replies";
        }
    }
    const nlohmann::json flows = masq_flows();
    std::set<std::string> protos;
    for (const auto &f : flows) {
        protos.insert(f["proto"].get<std::string>());
        const std::string as = f["masqueraded_as"];
        const std::uint16_t port = static_cast<std::uint16_t>(std::stoi(as.substr(as.rfind(':') + 1)));
        EXPECT_GE(port, FP_MASQ_PORT_MIN_DEFAULT) << f.dump();
        EXPECT_TRUE(as.starts_with(host4.str() + ":") || as.starts_with("[" + host6.str() + "]:")) << f.dump();
    }
    EXPECT_EQ(protos, (std::set<std::string>{"icmp", "icmpv6", "tcp", "udp"})) << flows.dump();
}

// Two containers sending from the same source port to the same LAN server port, at the
// same time, TCP and UDP: the server sees two different host ports, and each container
// gets its own answers.
TEST_F(MasqNetnsTest, FlowsOfTwoContainersNeverShareAPort)
{
    start();
    masquerade();
    for (const IpAddr *family : {&c1().v4, &c1().v6}) {
        SCOPED_TRACE(family->str());
        const IpAddr &server = lan(*family);
        const IpAddr &a1 = family->is_v4() ? c1().v4 : c1().v6, &a2 = family->is_v4() ? c2().v4 : c2().v6;
        UdpEcho echo{bound_socket_in_netns(topo->lan_ns(), server, kUdpPort, SOCK_DGRAM), {}};
        Socket s1 = bound_socket_in_netns(c1().ns, a1, 40000, SOCK_DGRAM), s2 = bound_socket_in_netns(c2().ns, a2, 40000, SOCK_DGRAM);
        std::thread server_thread([&] { echo.serve(1500); });
        const std::string r1 = ask(s1, {server, kUdpPort}, "from c1");
        const std::string r2 = ask(s2, {server, kUdpPort}, "from c2");
        const std::string again1 = ask(s1, {server, kUdpPort}, "c1 again");
        server_thread.join();
        EXPECT_EQ(r1, "from c1");
        EXPECT_EQ(r2, "from c2");
        EXPECT_EQ(again1, "c1 again");
        EXPECT_EQ(echo.peers.size(), 2u) << "two flows, two host ports";
        for (const std::string &p : echo.peers)
            EXPECT_TRUE(p.starts_with(host_addr(*family).str() + " ")) << p;

        // TCP: both connections open at once, from the same port.
        Socket listener = bound_socket_in_netns(topo->lan_ns(), server, kTcpPort, SOCK_STREAM);
        ASSERT_EQ(::listen(listener.get(), 4), 0);
        const auto connect_from = [&](const std::string &ns, const IpAddr &addr) {
            Socket c = bound_socket_in_netns(ns, addr, 40001, SOCK_STREAM);
            const SockAddr to = sockaddr_of(server, kTcpPort);
            if (::connect(c.get(), to.ptr(), to.len) != 0)
                throw Error("connect from " + addr.str());
            return c;
        };
        Socket t1 = connect_from(c1().ns, a1), t2 = connect_from(c2().ns, a2);
        send_all(t1.get(), "c1");
        send_all(t2.get(), "c2");
        std::set<std::string> tcp_peers;
        for (int i = 0; i < 2; ++i) {
            sockaddr_storage from{};
            socklen_t len = sizeof from;
            Socket accepted(::accept(listener.get(), reinterpret_cast<sockaddr *>(&from), &len));
            tcp_peers.insert(address_port_of(from));
            char name[16] = {};
            ASSERT_TRUE(readable(accepted.get(), 2000));
            const ssize_t n = ::recv(accepted.get(), name, sizeof name, 0);
            ASSERT_GT(n, 0);
            send_all(accepted.get(), "hello " + std::string(name, static_cast<size_t>(n)));
        }
        EXPECT_EQ(recv_all(t1.get()), "hello c1");
        EXPECT_EQ(recv_all(t2.get()), "hello c2");
        EXPECT_EQ(tcp_peers.size(), 2u) << "two connections, two host ports";
    }
}

// A LAN that does route to the containers reaches them directly while they are
// masqueraded: their answers (a SYN-ACK, an echo reply, a UDP datagram back, the port
// unreachable and the RST of a closed port) belong to flows the LAN began and leave with
// the container's own address, IPv4 and IPv6.
TEST_F(MasqNetnsTest, AnswersToDirectConnectionsAreNotMasqueraded)
{
    start();
    masquerade();
    lab->in(topo->lan_ns(), {"ip", "route", "add", "10.91.0.0/24", "via", host4.str()});
    lab->in(topo->lan_ns(), {"ip", "-6", "route", "add", "fd91::/64", "via", host6.str()});
    for (const IpAddr *a : {&c1().v4, &c1().v6}) {
        SCOPED_TRACE(a->str());
        EXPECT_EQ(ping(topo->lan_ns(), a->str(), 2), 2u);
        EXPECT_EQ(tcp_peer_name(c1().ns, {*a, kTcpPort}, topo->lan_ns(), {*a, kTcpPort}),
                  a->str() + " " + std::to_string(kTcpPort));
        EXPECT_EQ(udp_echo_source(c1().ns, {*a, kUdpPort}, topo->lan_ns(), {*a, kUdpPort}),
                  a->str() + " " + std::to_string(kUdpPort));
        EXPECT_EQ(udp_refusal(topo->lan_ns(), {*a, 9999}), "Connection refused");
        EXPECT_EQ(tcp_refusal(topo->lan_ns(), {*a, 9999}), "Connection refused");
    }
    EXPECT_EQ(masq_flows().size(), 0u) << masq_flows().dump();
}

// A closed LAN port answers a masqueraded container as it would the host: the ICMP port
// unreachable (UDP) and the RST (TCP) come back translated, IPv4 and IPv6.
TEST_F(MasqNetnsTest, ClosedLanPortsAreRefusedNotSilent)
{
    start();
    masquerade();
    EXPECT_EQ(udp_refusal(c1().ns, {topo->lan_v4(), 9999}), "Connection refused");
    EXPECT_EQ(udp_refusal(c1().ns, {topo->lan_v6(), 9999}), "Connection refused");
    EXPECT_EQ(tcp_refusal(c1().ns, {topo->lan_v4(), 9999}), "Connection refused");
    EXPECT_EQ(tcp_refusal(c1().ns, {topo->lan_v6(), 9999}), "Connection refused");
}

// A ping one hop too short (an ICMP traceroute's first probe past the LAN): the LAN,
// routing on, answers the host's address with a time exceeded about the masqueraded
// request, and the container's ping hears it from the router, IPv4 and IPv6.
TEST_F(MasqNetnsTest, ATimeExceededReachesAMasqueradedPing)
{
    start();
    masquerade();
    // The LAN routes to a network beyond it, and the host sends that network there.
    lab->in(topo->lan_ns(), {"sysctl", "-qw", "net.ipv4.ip_forward=1"});
    lab->in(topo->lan_ns(), {"sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"});
    lab->in(topo->lan_ns(), {"ip", "route", "add", "198.51.100.0/24", "dev", "lan0"});
    lab->in(topo->lan_ns(), {"ip", "-6", "route", "add", "2001:db8:100::/64", "dev", "lan0"});
    host({"ip", "route", "add", "198.51.100.0/24", "via", topo->lan_v4().str()});
    host({"ip", "-6", "route", "add", "2001:db8:100::/64", "via", topo->lan_v6().str()});
    for (const char *beyond : {"198.51.100.1", "2001:db8:100::1"}) {
        SCOPED_TRACE(beyond);
        // TTL 2: the host's hop takes one, the LAN's would take the last.
        const CommandResult r = run_command({"ip", "netns", "exec", c1().ns, "ping", "-c", "1", "-W", "3", "-t", "2", beyond});
        EXPECT_NE(r.output.find("exceeded"), std::string::npos) << r.output; // "Time to live" / "Hop limit"
        const std::string router = std::string(beyond).find(':') != std::string::npos ? topo->lan_v6().str() : topo->lan_v4().str();
        EXPECT_NE(r.output.find("From " + router), std::string::npos) << r.output;
    }
}

// Masquerading makes no iptables or nft rule (status counts its rules and shows the
// socket hooks); removing a container's endpoint drops its masqueraded flows and leaves
// the other container's; `masq del` drops the rest and stops masquerading.
TEST_F(MasqNetnsTest, FlowsGoWithTheirContainerAndNoFirewallRuleIsMade)
{
    const std::string iptables_before = host({"iptables-save"}) + host({"ip6tables-save"});
    const std::string nft_before = host({"nft", "list", "ruleset"});
    start();
    masquerade();
    EXPECT_EQ(udp_send(topo->lan_ns(), topo->lan_v4(), kUdpPort, c1().ns, 20).messages, 20u);
    EXPECT_EQ(udp_send(topo->lan_ns(), topo->lan_v4(), kUdpPort, c2().ns, 20).messages, 20u);
    EXPECT_EQ(masq_flows().size(), 2u) << masq_flows().dump();
    EXPECT_EQ(host({"iptables-save"}) + host({"ip6tables-save"}), iptables_before);
    EXPECT_EQ(host({"nft", "list", "ruleset"}), nft_before);
    const nlohmann::json status = flatpath_json({"status", "--json"});
    // The two flows go to one destination: they hold 2 of its 4536 ports.
    EXPECT_EQ(status["masquerade"],
              nlohmann::json::parse(R"({"rules": 2, "ports": [61000, 65535], "busiest": {"destination": "udp )" +
                                    topo->lan_v4().with_port(std::to_string(kUdpPort)) +
                                    R"(", "ports": 2, "range": 4536, "near_full": false}})"))
        << status.dump();
    EXPECT_EQ(status["socket_hooks"].size(), 8u);
    for (const auto &[hook, state] : status["socket_hooks"].items())
        EXPECT_EQ(state, "attached") << hook;
    EXPECT_NE(flatpath({"status"}).find("8 of 8 host socket hooks attached"), std::string::npos);

    flatpath({"endpoint", "del", c1().v4.str(), c1().v6.str()});
    const nlohmann::json left = masq_flows();
    ASSERT_EQ(left.size(), 1u) << left.dump();
    EXPECT_TRUE(left[0]["client"].get<std::string>().starts_with(c2().v4.str() + ":")) << left.dump();

    EXPECT_NE(flatpath({"masq", "del", "10.91.0.0/24"}).find("1 flow(s) dropped"), std::string::npos);
    EXPECT_EQ(masq_flows().size(), 0u);
    EXPECT_EQ(flatpath_json({"status", "--json"})["masquerade"]["rules"], 1);
    EXPECT_EQ(udp_send(topo->lan_ns(), topo->lan_v4(), kUdpPort, c2().ns, 5).peer, c2().v4.str())
        << "still masqueraded after masq del";
}

// A port range that runs out: with 4 masquerade ports, new flows to one LAN server port
// beyond the fourth are dropped and counted (drop_masq_ports), while the flows that have
// ports go on, and flows to another server port still get ports of their own (ports are
// only shared per destination). status reports the full range as a problem.
TEST_F(MasqNetnsTest, AFullPortRangeDropsNewFlowsOnly)
{
    start();
    flatpath({"up", "--masq-ports", "61000-61003"});
    masquerade();
    const SockTarget server{topo->lan_v4(), kUdpPort}, other{topo->lan_v4(), kUdpPort + 1};
    UdpEcho echo{bound_socket_in_netns(topo->lan_ns(), server.addr, server.port, SOCK_DGRAM), {}};
    UdpEcho echo_other{bound_socket_in_netns(topo->lan_ns(), other.addr, other.port, SOCK_DGRAM), {}};
    std::thread serving([&] { echo.serve(4000); });
    std::thread serving_other([&] { echo_other.serve(6000); });

    std::vector<Socket> flows;
    unsigned answered = 0;
    for (std::uint16_t p = 40000; p < 40010; ++p) {
        flows.push_back(bound_socket_in_netns(c1().ns, c1().v4, p, SOCK_DGRAM));
        answered += ask(flows.back(), server, "flow " + std::to_string(p), 300).empty() ? 0 : 1;
    }
    EXPECT_EQ(answered, 4u) << "one flow per port of the range";
    EXPECT_GE(reason_count("drop_masq_ports"), 6u);
    // status names the destination that holds the range, as a problem (exit 3).
    const CommandResult st = flatpath_result({"status", "--json"});
    EXPECT_EQ(st.status, 3) << st.output;
    const nlohmann::json busiest = nlohmann::json::parse(st.output)["masquerade"]["busiest"];
    EXPECT_EQ(busiest["destination"], "udp " + server.addr.with_port(std::to_string(server.port)));
    EXPECT_EQ(busiest["ports"], 4);
    EXPECT_EQ(busiest["range"], 4);
    EXPECT_EQ(busiest["near_full"], true);
    EXPECT_EQ(ask(flows[0], server, "still there"), "still there") << "an established flow was harmed";
    EXPECT_EQ(ask(flows[9], other, "elsewhere"), "elsewhere") << "another destination has ports of its own";
    serving.join();
    serving_other.join();
    EXPECT_EQ(echo.peers.size(), 4u);
}

// A flow that is over gives its port up: with 4 masquerade ports, a container opens and
// resets a dozen connections to one server port, one after the other, and each gets
// through (a reset flow would otherwise hold its port for the closing timeout).
TEST_F(MasqNetnsTest, ClosedFlowsGiveTheirPortsUp)
{
    start();
    flatpath({"up", "--masq-ports", "61000-61003"});
    masquerade();
    Socket listener = bound_socket_in_netns(topo->lan_ns(), topo->lan_v4(), kTcpPort, SOCK_STREAM);
    const SockAddr at = sockaddr_of(topo->lan_v4(), kTcpPort);
    ASSERT_EQ(::listen(listener.get(), 16), 0);
    unsigned connected = 0;
    for (int i = 0; i < 12; ++i) {
        Socket c = socket_in_netns(c1().ns, AF_INET, SOCK_STREAM);
        const timeval patience{2, 0};
        ::setsockopt(c.get(), SOL_SOCKET, SO_SNDTIMEO, &patience, sizeof patience);
        if (::connect(c.get(), at.ptr(), at.len) != 0)
            continue;
        ++connected;
        Socket accepted(::accept(listener.get(), nullptr, nullptr));
        const linger reset{1, 0};
        ::setsockopt(c.get(), SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    }
    EXPECT_EQ(connected, 12u);
    EXPECT_EQ(reason_count("drop_masq_ports"), 0u);
}

// Bad masquerade input: one clear line, a non-zero exit, and the rules as they were.
TEST_F(MasqNetnsTest, BadInputIsRefusedAndChangesNothing)
{
    start();
    flatpath({"masq", "add", "10.91.0.0/24", "--except", "10.90.0.0/24"});
    const auto rules = [&] { return flatpath({"masq", "list", "--json"}); };
    EXPECT_NE(rules().find("10.90.0.0/24"), std::string::npos);
    expect_refused_keeping({"masq", "add", "10.91.0.0/24"}, "a masquerade rule for 10.91.0.0/24 exists already",
                           rules);
    expect_refused_keeping({"masq", "add", "10.91.0.5/24"}, "has host bits set (the prefix is 10.91.0.0/24)", rules);
    expect_refused_keeping({"masq", "add", "10.92.0.0/33"}, "the prefix length must be 0-32", rules);
    expect_refused_keeping({"masq", "add", "10.92.0.0"}, "is not a prefix", rules);
    expect_refused_keeping({"masq", "add", "10.92.0.0/24", "--except", "fd00::/8"},
                           "exception fd00::/8 is not of 10.92.0.0/24's address family", rules);
    expect_refused_keeping({"masq", "add", "10.92.0.0/24", "--out", "nosuchif0"}, "nosuchif0", rules);
    expect_refused_keeping({"masq", "del", "10.93.0.0/24"}, "no masquerade rule for 10.93.0.0/24", rules);
    expect_refused_keeping({"up", "--masq-ports", "65535-61000"}, "first below last", rules);
    expect_refused_keeping({"up", "--masq-ports", "80-90"}, "ports must be 1024-65535", rules);
}

}  // namespace
}  // namespace fp::test

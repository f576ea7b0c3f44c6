// Egress masquerade in the datapath: containers reach a LAN that has no route to their
// subnets, as the host, with no iptables or nft rule; flows of two containers never share
// a host port; replies, pings and ICMP errors find their way back; flows go with their
// container; a full port range drops new flows only.
#include <arpa/inet.h>
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

Socket udp_socket_in(const std::string &ns, const IpAddr &addr, std::uint16_t port)
{
    Socket s = socket_in_netns(ns, addr.is_v4() ? AF_INET : AF_INET6, SOCK_DGRAM);
    const SockAddr at = sockaddr_of(addr, port);
    if (::bind(s.get(), at.ptr(), at.len) != 0)
        throw Error("bind " + addr.with_port(std::to_string(port)) + " in " + ns);
    return s;
}

std::string peer_of(const sockaddr_storage &ss)
{
    char buf[INET6_ADDRSTRLEN] = {};
    if (ss.ss_family == AF_INET) {
        const auto *a = reinterpret_cast<const sockaddr_in *>(&ss);
        ::inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
        return std::string(buf) + " " + std::to_string(ntohs(a->sin_port));
    }
    const auto *a = reinterpret_cast<const sockaddr_in6 *>(&ss);
    ::inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
    return std::string(buf) + " " + std::to_string(ntohs(a->sin6_port));
}

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
            peers.insert(peer_of(from));
            ::sendto(sock.get(), buf, static_cast<size_t>(n), 0, reinterpret_cast<sockaddr *>(&from), len);
        }
    }
};

// Sends text from s to `to` and returns the answer ("" when none came within a second).
std::string ask(const Socket &s, const SockTarget &to, const std::string &text)
{
    const SockAddr dst = sockaddr_of(to.addr, to.port);
    ::sendto(s.get(), text.data(), text.size(), 0, dst.ptr(), dst.len);
    if (!readable(s.get(), 1000))
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
        UdpEcho echo{udp_socket_in(topo->lan_ns(), server, kUdpPort), {}};
        Socket s1 = udp_socket_in(c1().ns, a1, 40000), s2 = udp_socket_in(c2().ns, a2, 40000);
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
        Socket listener = socket_in_netns(topo->lan_ns(), server.is_v4() ? AF_INET : AF_INET6, SOCK_STREAM);
        const SockAddr at = sockaddr_of(server, kTcpPort);
        ASSERT_EQ(::bind(listener.get(), at.ptr(), at.len), 0);
        ASSERT_EQ(::listen(listener.get(), 4), 0);
        const auto connect_from = [&](const std::string &ns, const IpAddr &addr) {
            Socket c = socket_in_netns(ns, addr.is_v4() ? AF_INET : AF_INET6, SOCK_STREAM);
            const int one = 1;
            ::setsockopt(c.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            const SockAddr at = sockaddr_of(addr, 40001), to = sockaddr_of(server, kTcpPort);
            if (::bind(c.get(), at.ptr(), at.len) != 0 || ::connect(c.get(), to.ptr(), to.len) != 0)
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
            tcp_peers.insert(peer_of(from));
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

}  // namespace
}  // namespace fp::test

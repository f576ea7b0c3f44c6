// Published ports through the real datapath: a LAN client reaches a container
// through the host's address, the container sees the client's own address, and
// no iptables or nft rule is involved.
#include <netinet/in.h>
#include <poll.h>

#include <cerrno>
#include <cstring>

#include "demo.hpp"
#include "error.hpp"
#include "netns_fixture.hpp"
#include "netns_scope.hpp"

namespace fp::test {
namespace {

class DnatNetnsTest : public NetnsTest {
protected:
    const IpAddr host4 = IpAddr::parse("10.90.0.1");
    const IpAddr host6 = IpAddr::parse("fd90::1");

    // Published ports, mark rules and flows, to check that a refused command changed nothing.
    std::string tables()
    {
        return flatpath({"dnat", "list", "--json"}) + flatpath({"mark", "list", "--json"}) +
               flatpath({"ct", "list", "--json"});
    }

    void expect_refused(const std::vector<std::string> &args, const std::string &message)
    {
        expect_refused_keeping(args, message, [&] { return tables(); });
    }
};

// TCP and UDP, IPv4 and IPv6, from the LAN to ports published on the uplink's address,
// with the LAN sender's default offloads and the uplink in auto mode (tc only on a
// veth): the container sees the client's own address and flatpath delivered it all.
TEST_F(DnatNetnsTest, LanReachesPublishedPortsWithItsOwnSourceAddress)
{
    start();
    flatpath({"dnat", "add", "tcp", "8080", c1().v4.str() + ":7001", "--host-ip", host4.str()});
    flatpath({"dnat", "add", "tcp", "8080", "[" + c1().v6.str() + "]:7001", "--host-ip", host6.str()});
    flatpath({"dnat", "add", "udp", "5353", c2().v4.str() + ":7002"});
    flatpath({"dnat", "add", "udp", "5353", "[" + c2().v6.str() + "]:7002"});
    // Listed the way it is typed: an IPv6 backend in brackets.
    EXPECT_NE(flatpath({"dnat", "list"}).find("[" + c1().v6.str() + "]:7001"), std::string::npos);

    const Received tcp4 = tcp_transfer(c1().ns, {c1().v4, 7001}, topo->lan_ns(), {host4, 8080}, 1 << 20);
    EXPECT_EQ(tcp4.bytes, 1u << 20);
    EXPECT_EQ(tcp4.peer, topo->lan_v4().str());
    const Received tcp6 = tcp_transfer(c1().ns, {c1().v6, 7001}, topo->lan_ns(), {host6, 8080}, 1 << 20);
    EXPECT_EQ(tcp6.bytes, 1u << 20);
    EXPECT_EQ(tcp6.peer, topo->lan_v6().str());

    // ICMP is not translated: pings to the host and to the containers still work.
    for (const IpAddr *a : {&host4, &host6, &c1().v4, &c1().v6})
        EXPECT_EQ(ping(topo->lan_ns(), a->str(), 2), 2u) << a->str();

    for (const IpAddr *host : {&host4, &host6}) {
        SCOPED_TRACE(host->str());
        const IpAddr &backend = host->is_v4() ? c2().v4 : c2().v6;
        const std::uint64_t fwd_before = stack_forwarded(topo->host_ns());
        const std::uint64_t to_before = delivered_to("fpc2");
        const Received udp = udp_send(c2().ns, {backend, 7002}, topo->lan_ns(), {*host, 5353}, 500);
        EXPECT_EQ(udp.messages, 500u);
        EXPECT_EQ(udp.peer, (host->is_v4() ? topo->lan_v4() : topo->lan_v6()).str());
        EXPECT_GE(delivered_to("fpc2") - to_before, 500u) << "flatpath did not deliver them";
        EXPECT_EQ(stack_forwarded(topo->host_ns()) - fwd_before, 0u) << "the host stack forwarded them";
    }
}

// A published port with nothing behind it refuses like a local closed port would: the
// backend's ICMP port unreachable (UDP) and RST (TCP) reach the client translated.
TEST_F(DnatNetnsTest, ClosedBackendPortsAreRefusedNotSilent)
{
    start();
    flatpath({"dnat", "add", "udp", "5353", c1().v4.str() + ":7002"});
    flatpath({"dnat", "add", "udp", "5353", "[" + c1().v6.str() + "]:7002"});
    flatpath({"dnat", "add", "tcp", "8080", c1().v4.str() + ":7001"});
    EXPECT_EQ(udp_refusal(topo->lan_ns(), {host4, 5353}), "Connection refused");
    EXPECT_EQ(udp_refusal(topo->lan_ns(), {host6, 5353}), "Connection refused");
    EXPECT_EQ(tcp_refusal(topo->lan_ns(), {host4, 8080}), "Connection refused");
}

// A datagram to a published port whose TTL ends at the host (traceroute's first probe):
// flatpath leaves it untranslated, so the host answers as itself (port unreachable from
// its own address) instead of a time exceeded quoting the backend; the backend gets
// nothing and no flow is made.
TEST_F(DnatNetnsTest, AnExpiringTtlIsAnsweredByTheHostNotTheBackend)
{
    start();
    flatpath({"dnat", "add", "udp", "5353", c1().v4.str() + ":7002"});
    Socket backend = bound_socket_in_netns(c1().ns, c1().v4, 7002, SOCK_DGRAM);

    Socket probe = socket_in_netns(topo->lan_ns(), AF_INET, SOCK_DGRAM);
    const int ttl = 1;
    ASSERT_EQ(::setsockopt(probe.get(), IPPROTO_IP, IP_TTL, &ttl, sizeof ttl), 0);
    const SockAddr to = sockaddr_of(host4, 5353);
    ASSERT_EQ(::connect(probe.get(), to.ptr(), to.len), 0);
    ASSERT_EQ(::send(probe.get(), "probe", 5, 0), 5);
    pollfd p{probe.get(), POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 3000), 1) << "no answer to the probe";
    char buf[16];
    EXPECT_LT(::recv(probe.get(), buf, sizeof buf, 0), 0);
    EXPECT_EQ(errno, ECONNREFUSED) << std::strerror(errno);

    pollfd b{backend.get(), POLLIN, 0};
    EXPECT_EQ(::poll(&b, 1, 200), 0) << "the backend got a packet that expired on the way";
    EXPECT_EQ(flatpath_json({"ct", "list", "--json"}).size(), 0u);
}

// Hairpin: a container reaching a port another container publishes keeps its own
// source; one reaching its own published port sees the host address instead (the
// only case where the source is rewritten), so that its answer comes back to it.
TEST_F(DnatNetnsTest, HairpinFromContainers)
{
    start();
    flatpath({"dnat", "add", "tcp", "8080", c1().v4.str() + ":7001", "--host-ip", host4.str()});
    flatpath({"dnat", "add", "udp", "8053", "[" + c1().v6.str() + "]:7002"});

    const Received other = tcp_transfer(c1().ns, {c1().v4, 7001}, c2().ns, {host4, 8080}, 1 << 20);
    EXPECT_EQ(other.bytes, 1u << 20);
    EXPECT_EQ(other.peer, c2().v4.str());
    const Received self = tcp_transfer(c1().ns, {c1().v4, 7001}, c1().ns, {host4, 8080}, 1 << 20);
    EXPECT_EQ(self.bytes, 1u << 20);
    EXPECT_EQ(self.peer, host4.str());
    const Received udp6 = udp_send(c1().ns, {c1().v6, 7002}, c2().ns, {host6, 8053}, 200);
    EXPECT_EQ(udp6.messages, 200u);
    EXPECT_EQ(udp6.peer, c2().v6.str());
}

// The host's own programs reach published ports on its addresses at the socket (no lo
// path, no accept_local), whatever reverse-path filtering says: off, loose (as Debian's
// systemd configures it) or strict.
TEST_F(DnatNetnsTest, HostReachesPublishedPorts)
{
    start();
    EXPECT_EQ(host({"sysctl", "-n", "net.ipv4.conf.lo.accept_local"}), "0\n") << "up changed lo";
    flatpath({"dnat", "add", "tcp", "8080", c1().v4.str() + ":7001"});
    flatpath({"dnat", "add", "tcp", "8080", "[" + c1().v6.str() + "]:7001"});
    for (const char *rp_filter : {"0", "2", "1"}) {
        SCOPED_TRACE(std::string("rp_filter ") + rp_filter);
        host({"sysctl", "-qw", std::string("net.ipv4.conf.all.rp_filter=") + rp_filter});
        const Received r = tcp_transfer(c1().ns, {c1().v4, 7001}, topo->host_ns(), {host4, 8080}, 1 << 20);
        EXPECT_EQ(r.bytes, 1u << 20);
        EXPECT_EQ(r.peer, host4.str());
    }
    const Received r6 = tcp_transfer(c1().ns, {c1().v6, 7001}, topo->host_ns(), {host6, 8080}, 1 << 20);
    EXPECT_EQ(r6.bytes, 1u << 20);
    EXPECT_EQ(r6.peer, host6.str());
    EXPECT_EQ(flatpath_json({"ct", "list", "--json"}).size(), 0u) << "translated at the socket, not per packet";
}

// The host's own sockets reach published ports on 127.0.0.1 and ::1 at the socket (the
// cgroup connect/sendmsg hooks), TCP and UDP: the server gets the bytes, no flow is
// translated per packet (conntrack stays empty), getpeername and a UDP echo's source
// show the address the client asked for, on a host address too. A container's own
// 127.0.0.1 is its own: its sockets are not translated.
TEST_F(DnatNetnsTest, HostSocketsReachPublishedPortsOnLoopback)
{
    start();
    for (const IpAddr &backend : {c1().v4, c1().v6}) {
        const std::string b = backend.is_v4() ? backend.str() : "[" + backend.str() + "]";
        flatpath({"dnat", "add", "tcp", "8080", b + ":7001"});
        flatpath({"dnat", "add", "udp", "8443", b + ":7002"});
    }
    const IpAddr lo4 = IpAddr::parse("127.0.0.1"), lo6 = IpAddr::parse("::1");
    EXPECT_EQ(tcp_transfer(c1().ns, {c1().v4, 7001}, topo->host_ns(), {lo4, 8080}, 1 << 20).bytes, 1u << 20);
    EXPECT_EQ(tcp_transfer(c1().ns, {c1().v6, 7001}, topo->host_ns(), {lo6, 8080}, 1 << 20).bytes, 1u << 20);
    EXPECT_EQ(udp_send(c1().ns, {c1().v4, 7002}, topo->host_ns(), {lo4, 8443}, 50).messages, 50u);
    EXPECT_EQ(udp_send(c1().ns, {c1().v6, 7002}, topo->host_ns(), {lo6, 8443}, 50).messages, 50u);
    EXPECT_EQ(tcp_peer_name(c1().ns, {c1().v4, 7001}, topo->host_ns(), {lo4, 8080}), "127.0.0.1 8080");
    EXPECT_EQ(tcp_peer_name(c1().ns, {c1().v6, 7001}, topo->host_ns(), {lo6, 8080}), "::1 8080");
    EXPECT_EQ(udp_echo_source(c1().ns, {c1().v4, 7002}, topo->host_ns(), {lo4, 8443}), "127.0.0.1 8443");
    EXPECT_EQ(udp_echo_source(c1().ns, {c1().v6, 7002}, topo->host_ns(), {lo6, 8443}), "::1 8443");
    EXPECT_EQ(udp_echo_source(c1().ns, {c1().v4, 7002}, topo->host_ns(), {host4, 8443}), host4.str() + " 8443");
    EXPECT_EQ(flatpath_json({"ct", "list", "--json"}).size(), 0u) << "translated at the socket, not per packet";
    // While the backend listens, a container connecting to its own 127.0.0.1:8080 is refused.
    EXPECT_THROW(tcp_peer_name(c1().ns, {c1().v4, 7001}, c2().ns, {lo4, 8080}), Error)
        << "a container's 127.0.0.1 is its own";
}

// A port published on 127.0.0.1 (Podman's -p 127.0.0.1:8400:80, or `dnat add --host-ip
// 127.0.0.1`) is the host's alone: the host's sockets reach it, TCP and UDP, while a LAN
// client trying the host's address and a container trying its own 127.0.0.1 do not.
TEST_F(DnatNetnsTest, PortsBoundToLoopbackAreTheHostsAlone)
{
    start();
    const IpAddr lo4 = IpAddr::parse("127.0.0.1"), lo6 = IpAddr::parse("::1");
    flatpath({"dnat", "add", "tcp", "8400", c1().v4.str() + ":7001", "--host-ip", "127.0.0.1"});
    flatpath({"dnat", "add", "udp", "8401", c1().v4.str() + ":7002", "--host-ip", "127.0.0.1"});
    flatpath({"dnat", "add", "tcp", "8400", "[" + c1().v6.str() + "]:7001", "--host-ip", "::1"});
    EXPECT_EQ(tcp_transfer(c1().ns, {c1().v4, 7001}, topo->host_ns(), {lo4, 8400}, 1 << 16).bytes, 1u << 16);
    EXPECT_EQ(tcp_transfer(c1().ns, {c1().v6, 7001}, topo->host_ns(), {lo6, 8400}, 1 << 16).bytes, 1u << 16);
    EXPECT_EQ(udp_echo_source(c1().ns, {c1().v4, 7002}, topo->host_ns(), {lo4, 8401}), "127.0.0.1 8401");
    // Nothing listens on the host itself at 8400: a LAN client is refused by the host.
    EXPECT_EQ(tcp_refusal(topo->lan_ns(), {host4, 8400}), "Connection refused");
    EXPECT_EQ(tcp_refusal(topo->lan_ns(), {host6, 8400}), "Connection refused");
    EXPECT_EQ(udp_send(c1().ns, {c1().v4, 7002}, topo->lan_ns(), {host4, 8401}, 5).messages, 0u);
    EXPECT_THROW(tcp_peer_name(c1().ns, {c1().v4, 7001}, c2().ns, {lo4, 8400}), Error)
        << "a container's 127.0.0.1 is its own";
}

// Unpublishing a port drops its flows at once: a UDP "connection" must not keep
// reaching the old backend, and the next datagram is no longer translated. Unpublishing
// a port that never carried a flow leaves the other flows alone.
TEST_F(DnatNetnsTest, UnpublishingPurgesTheFlows)
{
    start();
    flatpath({"dnat", "add", "udp", "5353", c1().v4.str() + ":7002", "--host-ip", host4.str()});
    EXPECT_EQ(udp_send(c1().ns, {c1().v4, 7002}, topo->lan_ns(), {host4, 5353}, 50).messages, 50u);
    const nlohmann::json flows = flatpath_json({"ct", "list", "--json"});
    ASSERT_EQ(flows.size(), 1u) << flows.dump();
    EXPECT_EQ(flows[0]["backend"], c1().v4.str() + ":7002");
    EXPECT_TRUE(flows[0]["client"].get<std::string>().starts_with(topo->lan_v4().str() + ":")) << flows.dump();
    // A port that never carried a flow goes without touching the others.
    flatpath({"dnat", "add", "udp", "5354", c1().v4.str() + ":7002", "--host-ip", host4.str()});
    EXPECT_NE(flatpath({"dnat", "del", "udp", "5354", "--host-ip", host4.str()}).find("0 flow(s) dropped"),
              std::string::npos);
    EXPECT_EQ(flatpath_json({"ct", "list", "--json"}).size(), 1u);
    EXPECT_NE(flatpath({"dnat", "del", "udp", "5353", "--host-ip", host4.str()}).find("1 flow(s) dropped"),
              std::string::npos);
    EXPECT_EQ(flatpath_json({"ct", "list", "--json"}).size(), 0u);
    EXPECT_EQ(udp_send(c1().ns, {c1().v4, 7002}, topo->lan_ns(), {host4, 5353}, 10).messages, 0u);
}

// Removing the backend endpoint purges its flows too.
TEST_F(DnatNetnsTest, RemovingTheEndpointPurgesItsFlows)
{
    start();
    flatpath({"dnat", "add", "udp", "5353", c1().v4.str() + ":7002"});
    EXPECT_EQ(udp_send(c1().ns, {c1().v4, 7002}, topo->lan_ns(), {host4, 5353}, 20).messages, 20u);
    EXPECT_EQ(flatpath_json({"ct", "list", "--json"}).size(), 1u);
    flatpath({"endpoint", "del", c1().v4.str(), c1().v6.str()});
    EXPECT_EQ(flatpath_json({"ct", "list", "--json"}).size(), 0u);
}

// flatpath does all of this without a single iptables or nft rule.
TEST_F(DnatNetnsTest, NoFirewallRulesAreMade)
{
    const std::string iptables_before = host({"iptables-save"}) + host({"ip6tables-save"});
    const std::string nft_before = host({"nft", "list", "ruleset"});
    start();
    flatpath({"dnat", "add", "tcp", "8080", c1().v4.str() + ":7001"});
    flatpath({"mark", "add", "tcp", "7001", "0x2/0xff"});
    EXPECT_EQ(tcp_transfer(c1().ns, {c1().v4, 7001}, topo->lan_ns(), {host4, 8080}, 1 << 16).bytes, 1u << 16);
    EXPECT_EQ(host({"iptables-save"}) + host({"ip6tables-save"}), iptables_before);
    EXPECT_EQ(host({"nft", "list", "ruleset"}), nft_before);
}

// Bad DNAT and mark input: one clear line, a non-zero exit, and the tables as they were.
TEST_F(DnatNetnsTest, BadInputIsRefusedAndChangesNothing)
{
    start();
    flatpath({"dnat", "add", "tcp", "8080", c1().v4.str() + ":80", "--host-ip", host4.str()});
    flatpath({"dnat", "add", "udp", "9000-9009", c2().v4.str() + ":7000-7009"});
    flatpath({"mark", "add", "tcp", "80", "0x2/0xff", "--ip", c1().v4.str()});
    const std::string b = c1().v4.str();
    expect_refused({"dnat", "add", "tcp", "0", b + ":80"}, "port 0 cannot be published");
    expect_refused({"dnat", "add", "tcp", "65536", b + ":80"}, "'65536' is not a port (1-65535)");
    expect_refused({"dnat", "add", "tcp", "8200-8100", b}, "port range 8200-8100 is reversed");
    expect_refused({"dnat", "add", "tcp", "8100-8200", b + ":80-90"}, "differ in length");
    expect_refused({"dnat", "add", "sctp", "80", b + ":80"}, "unknown protocol 'sctp' (tcp or udp)");
    expect_refused({"dnat", "add", "tcp", "8081", b + ":80", "--host-ip", host6.str()}, "address family mismatch");
    expect_refused({"dnat", "add", "tcp", "8080", c2().v4.str() + ":80", "--host-ip", host4.str()},
                   "tcp 10.90.0.1:8080 is already published (to " + b + ":80)");
    expect_refused({"dnat", "add", "tcp", "8080", c2().v4.str() + ":80"}, "tcp 10.90.0.1:8080 is already published");
    expect_refused({"dnat", "add", "udp", "9005", c1().v4.str() + ":53"}, "udp 0.0.0.0:9000-9009 is already published");
    expect_refused({"dnat", "add", "udp", "8990-9000", c1().v4.str() + ":8990-9000"}, "is already published");
    expect_refused({"dnat", "del", "tcp", "8081", "--host-ip", host4.str()}, "nothing is published at tcp 10.90.0.1:8081");
    expect_refused({"dnat", "del", "udp", "9000-9005"}, "nothing is published at udp 0.0.0.0:9000-9005");
    expect_refused({"dnat", "add", "tcp", "8082", "10.91.0.99:80"}, "backend 10.91.0.99 is not a registered endpoint");
    expect_refused({"dnat", "add", "tcp", "8082", b + ":80", "--host-ip", c2().v4.str()},
                   "--host-ip " + c2().v4.str() + " is not an address of this host");
    expect_refused({"dnat", "add", "tcp", "8082", b + ":80", "--host-ip", "224.0.0.1"}, "is a multicast address");
    expect_refused({"dnat", "add", "tcp", "8082", b + ":80", "--host-ip", "255.255.255.255"}, "is a broadcast address");
    expect_refused({"dnat", "add", "tcp", "8082", b + ":80", "--host-ip", "169.254.0.1"}, "is a link-local address");
    expect_refused({"dnat", "add", "tcp", "8082", "[" + c1().v6.str() + "]:80", "--host-ip", "fe80::1"},
                   "is a link-local address");
    expect_refused({"dnat", "add", "tcp", "8082", c1().v6.str() + ":5001"}, "write an IPv6 backend in brackets");
    expect_refused({"dnat", "del", "tcp", "8080", "--host-ip", host4.str(), "-6"},
                   "-6 names IPv6 entries, but --host-ip 10.90.0.1 is IPv4");
    expect_refused({"mark", "add", "tcp", "80", "0x3/0xff", "--ip", b}, "a mark rule from tcp " + b + ":80 exists already");
    expect_refused({"mark", "add", "tcp", "80", "0x100/0xff"}, "sets bits outside its mask");
    expect_refused({"mark", "add", "tcp", "80-81", "0x1"}, "mark rules take one port");
    expect_refused({"mark", "del", "udp", "53"}, "no mark rule from udp *:53");
}

// A range set holds at most FP_MAX_RANGES ranges: the next one is refused with the limit named.
TEST_F(DnatNetnsTest, FullRangeSetIsAClearError)
{
    start();
    for (int i = 0; i < FP_MAX_RANGES; ++i) {
        const std::string ports = std::to_string(10000 + i * 10) + "-" + std::to_string(10000 + i * 10 + 5);
        flatpath({"dnat", "add", "tcp", ports, c1().v4.str(), "--host-ip", host4.str()});
    }
    expect_refused({"dnat", "add", "tcp", "20000-20005", c1().v4.str(), "--host-ip", host4.str()},
                   "no room for another port range on tcp 10.90.0.1 (at most 16)");
}

} // namespace
} // namespace fp::test

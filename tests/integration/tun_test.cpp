// tun and tap devices in the fast path, with real descriptors (/dev/net/tun) held by the
// test as a sandbox's userspace stack, a VPN peer or a VM monitor holds them: what the
// test writes arrives on the device, where flatpath's tc program runs; what flatpath sends
// to the device is what the test reads. The rows are the L3 <-> L2 conversions with exact
// packets (built by the packet builder, checksums from scratch), in both directions,
// IPv4 and IPv6, plain and translated; each also shows that flatpath carried it (counters)
// and not the host's IP forwarding.
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>

#include "checksum.hpp"
#include "error.hpp"
#include "netdev.hpp"
#include "netns_fixture.hpp"
#include "netns_scope.hpp"
#include "packet.hpp"
#include "sockets.hpp"
#include "tap_vm.hpp"
#include "test_world.hpp"
#include "tun_device.hpp"

namespace fp::test {
namespace {

constexpr int kArrivesMs = 2000; // a packet that must arrive
constexpr int kAbsentMs = 300;   // how long a packet that must not arrive is waited for

// Whether the IP packet at off is test traffic: TCP or UDP, maybe behind IPv6 extension
// headers. What devices send by themselves once up (router solicitations, MLD reports
// behind a hop-by-hop header, IGMP) and a container's ICMP answers are not.
bool test_traffic(const Bytes &b, std::size_t off)
{
    if (b.size() < off + 20)
        return false;
    if (b[off] >> 4 == 4)
        return b[off + 9] == IPPROTO_TCP || b[off + 9] == IPPROTO_UDP;
    return b[off] >> 4 == 6 && b.size() >= off + 40 && b[off + 6] != 0 && b[off + 6] != IPPROTO_ICMPV6;
}

// Frames a device in a namespace receives, read with a packet socket bound to it.
class FrameCapture {
public:
    FrameCapture(const std::string &netns, const std::string &dev)
        : sock_(socket_in_netns(netns, AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons(ETH_P_ALL)))
    {
        sockaddr_ll at{};
        at.sll_family = AF_PACKET;
        at.sll_protocol = htons(ETH_P_ALL);
        {
            NetnsScope in(netns);
            at.sll_ifindex = static_cast<int>(if_nametoindex(dev.c_str()));
        }
        if (at.sll_ifindex == 0)
            throw Error("no device " + dev + " in " + netns);
        if (::bind(sock_.get(), reinterpret_cast<const sockaddr *>(&at), sizeof at) != 0)
            throw_errno("bind a packet socket to " + dev, errno);
    }

    // The next test frame the device received within timeout_ms.
    std::optional<Bytes> next(int timeout_ms)
    {
        Bytes buf(65536);
        while (readable(sock_.get(), timeout_ms)) {
            sockaddr_ll from{};
            socklen_t len = sizeof from;
            const ssize_t n = ::recvfrom(sock_.get(), buf.data(), buf.size(), 0, reinterpret_cast<sockaddr *>(&from), &len);
            if (n <= 0 || from.sll_pkttype == PACKET_OUTGOING)
                continue;
            Bytes frame(buf.begin(), buf.begin() + n);
            if (test_traffic(frame, ETH_HLEN))
                return frame;
        }
        return std::nullopt;
    }

private:
    Socket sock_;
};

// The next test packet the kernel sent to the device's descriptor holder within timeout_ms.
std::optional<Bytes> next_packet(const TunDevice &dev, int timeout_ms, std::size_t l3_off = 0)
{
    while (auto p = dev.read_packet(timeout_ms))
        if (test_traffic(*p, l3_off))
            return p;
    return std::nullopt;
}

// p without its Ethernet header: the packet a tun carries.
Bytes l3_of(const Packet &p)
{
    const Bytes b = p.bytes();
    return Bytes(b.begin() + ETH_HLEN, b.end());
}

MacAddr mac_of(const std::string &netns, const std::string &dev)
{
    NetnsScope in(netns);
    return NetDev::by_name(dev).mac;
}

Packet udp(const IpAddr &src, std::uint16_t sport, const IpAddr &dst, std::uint16_t dport)
{
    Packet p;
    p.l3 = src.is_v4() ? L3::IPv4 : L3::IPv6;
    p.src = src;
    p.dst = dst;
    p.sport = sport;
    p.dport = dport;
    return p;
}

// A datagram socket s received within timeout_ms (size -1 when none came), and its sender.
struct Datagram {
    ssize_t size = -1;
    std::string text;
    sockaddr_storage peer{};
    socklen_t peer_len = sizeof peer;
    std::string from() const { return size < 0 ? "" : address_port_of(peer); }
};

Datagram receive(const Socket &s, int timeout_ms = kArrivesMs)
{
    Datagram d;
    if (!readable(s.get(), timeout_ms))
        return d;
    char buf[2048];
    d.size = ::recvfrom(s.get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr *>(&d.peer), &d.peer_len);
    d.text.assign(buf, static_cast<std::size_t>(std::max<ssize_t>(d.size, 0)));
    return d;
}

// A datagram of `payload` to `to` from socket s, and the answer.
Datagram exchange(const Socket &s, const IpAddr &to, std::uint16_t port, const std::string &payload,
                  int timeout_ms = kArrivesMs)
{
    const SockAddr sa = sockaddr_of(to, port);
    if (::sendto(s.get(), payload.data(), payload.size(), 0, sa.ptr(), sa.len) != static_cast<ssize_t>(payload.size()))
        throw_errno("send to " + to.str(), errno);
    return receive(s, timeout_ms);
}

// Socket s (connected) was told "fragmentation needed" (its pending EMSGSIZE) and knows the
// path's MTU now.
void expect_told_path_mtu(const Socket &s, int mtu)
{
    int err = 0, learned = 0;
    socklen_t len = sizeof err;
    ASSERT_EQ(::getsockopt(s.get(), SOL_SOCKET, SO_ERROR, &err, &len), 0);
    EXPECT_EQ(err, EMSGSIZE) << "no fragmentation needed reached the container";
    len = sizeof learned;
    ASSERT_EQ(::getsockopt(s.get(), IPPROTO_IP, IP_MTU, &learned, &len), 0);
    EXPECT_EQ(learned, mtu) << "the container did not learn the path MTU";
}

const IpAddr kTun4 = IpAddr::parse("10.91.0.31"), kTun6 = IpAddr::parse("fd91::31");
const IpAddr kTwo4 = IpAddr::parse("10.91.0.32"), kTwo6 = IpAddr::parse("fd91::32");

// The demo's world (lan, host with uplink0, containers c1 and c2) with the datapath up,
// and a tun endpoint fptun1 (10.91.0.31, fd91::31) whose descriptor the test holds, routed
// by the host as a user routes a sandbox's tun.
class TunTest : public NetnsTest {
protected:
    void SetUp() override
    {
        NetnsTest::SetUp();
        start();
        tun1 = add_tun_endpoint("fptun1", kTun4, kTun6);
    }

    std::unique_ptr<TunDevice> add_tun_endpoint(const std::string &name, const IpAddr &v4, const IpAddr &v6,
                                                TunOptions options = {})
    {
        auto dev = std::make_unique<TunDevice>(topo->host_ns(), name, TunMode::Tun, options);
        host({"ip", "link", "set", name, "up"});
        host({"ip", "route", "add", v4.str() + "/32", "dev", name});
        host({"ip", "-6", "route", "add", v6.str() + "/128", "dev", name});
        flatpath({"endpoint", "add", v4.str(), v6.str(), "--dev", name});
        return dev;
    }

    // A frame c1 sends to the host (its gateway): from its MAC to the host veth's.
    Packet from_c1(Packet p) const
    {
        p.src_mac = c1().mac;
        p.dst_mac = c1().host_mac;
        return p;
    }

    // A tun whose descriptor the test holds as the VPN peer, addressed 10.99.0.1/24 and
    // fd99::1/64 on the host and attached as an uplink.
    std::unique_ptr<TunDevice> add_vpn_uplink(const std::string &name)
    {
        auto dev = std::make_unique<TunDevice>(topo->host_ns(), name, TunMode::Tun);
        host({"ip", "addr", "add", "10.99.0.1/24", "dev", name});
        host({"ip", "-6", "addr", "add", "fd99::1/64", "dev", name, "nodad"});
        host({"ip", "link", "set", name, "up"});
        const std::string said = flatpath({"attach", name, "--role", "uplink"});
        EXPECT_NE(said.find("tc only (an L3 device"), std::string::npos) << said;
        return dev;
    }

    std::unique_ptr<TunDevice> tun1;
};

const IpAddr kVpnHost4 = IpAddr::parse("10.99.0.1"), kVpnHost6 = IpAddr::parse("fd99::1");
const IpAddr kVpnPeer4 = IpAddr::parse("10.99.0.2"), kVpnPeer6 = IpAddr::parse("fd99::2");

// A sandbox's tun and a veth container exchange packets through flatpath alone: from the
// tun, the packet gets an Ethernet header with the container's and the host veth's MACs
// and its TTL/hop limit down (routed); to the tun, the header goes (the kernel strips it
// on the redirect) and only the TTL changes. IPv6 also with an extension header chain.
TEST_F(TunTest, PacketsBetweenATunAndAContainerAreRoutedInTheKernel)
{
    struct Row {
        const char *what;
        IpAddr tun, c1;
        std::vector<std::uint8_t> ext;
    };
    const std::vector<Row> rows = {{"IPv4", kTun4, c1().v4, {}},
                                   {"IPv6", kTun6, c1().v6, {}},
                                   {"IPv6 with destination options twice", kTun6, c1().v6, {60, 60}}};
    // Sockets take the datagrams: c1 answers none with a port unreachable.
    const Socket s4 = bound_socket_in_netns(c1().ns, c1().v4, 7001, SOCK_DGRAM);
    const Socket s6 = bound_socket_in_netns(c1().ns, c1().v6, 7001, SOCK_DGRAM);
    for (const Row &row : rows) {
        SCOPED_TRACE(row.what);
        const std::uint64_t fwd_before = stack_forwarded(topo->host_ns());
        const std::uint64_t to_c1 = delivered_to("fpc1"), to_tun = delivered_to("fptun1");

        Packet out = udp(row.tun, 40000, row.c1, 7001);
        out.ipv6_ext = row.ext;
        FrameCapture at_c1(c1().ns, "eth0");
        ASSERT_EQ(tun1->write_packet(l3_of(out)), 0);
        const auto got = at_c1.next(kArrivesMs);
        ASSERT_TRUE(got) << "nothing reached c1";
        const Bytes want = routed(out, c1().host_mac, c1().mac).bytes();
        EXPECT_EQ(*got, want) << hex_diff(want, *got);

        Packet back = from_c1(udp(row.c1, 7001, row.tun, 40000));
        back.ipv6_ext = row.ext;
        send_frames(c1().ns, "eth0", {back.bytes()});
        const auto read = next_packet(*tun1, kArrivesMs);
        ASSERT_TRUE(read) << "nothing reached the tun";
        const Bytes want_back = l3_of(routed(back, {}, {}));
        EXPECT_EQ(*read, want_back) << hex_diff(want_back, *read);

        EXPECT_EQ(delivered_to("fpc1") - to_c1, 1u);
        EXPECT_EQ(delivered_to("fptun1") - to_tun, 1u);
        EXPECT_EQ(stack_forwarded(topo->host_ns()) - fwd_before, 0u) << "the host stack forwarded them";
    }
}

// A tun's MTU holds as a router's next link does (a VPN tun has 1420): a container's
// datagram too large for it with DF set gets "fragmentation needed" from the host, and the
// container's socket learns the path MTU; without DF the host fragments it into the tun.
// Smaller packets go on through flatpath.
TEST_F(TunTest, ATunsMtuHoldsLikeARoutersNextLink)
{
    host({"ip", "link", "set", "fptun1", "mtu", "1420"});
    const Socket s = bound_socket_in_netns(c1().ns, c1().v4, 7001, SOCK_DGRAM);
    const SockAddr to = sockaddr_of(kTun4, 40000);
    ASSERT_EQ(::connect(s.get(), to.ptr(), to.len), 0);
    const int dont = IP_PMTUDISC_DONT, pmtudisc_do = IP_PMTUDISC_DO;
    const std::string big(1450, 'x');

    // Without DF (and before the container knows the path's MTU): fragmented by the host.
    const std::uint64_t too_big = reason_count("pass_mtu");
    ASSERT_EQ(::setsockopt(s.get(), IPPROTO_IP, IP_MTU_DISCOVER, &dont, sizeof dont), 0);
    ASSERT_EQ(::send(s.get(), big.data(), big.size(), 0), static_cast<ssize_t>(big.size()));
    std::size_t carried = 0, pieces = 0;
    while (const auto piece = tun1->read_packet(kAbsentMs)) {
        if ((*piece)[0] >> 4 != 4 || (*piece)[9] != IPPROTO_UDP)
            continue;
        EXPECT_LE(piece->size(), 1420u);
        carried += piece->size() - 20;
        ++pieces;
    }
    EXPECT_EQ(pieces, 2u) << "the host fragments it";
    EXPECT_EQ(carried, big.size() + 8);

    // With DF: "fragmentation needed", which the container's socket reports and learns from.
    ASSERT_EQ(::setsockopt(s.get(), IPPROTO_IP, IP_MTU_DISCOVER, &pmtudisc_do, sizeof pmtudisc_do), 0);
    ASSERT_EQ(::send(s.get(), big.data(), big.size(), 0), static_cast<ssize_t>(big.size()));
    EXPECT_FALSE(next_packet(*tun1, kAbsentMs)) << "a packet larger than the tun's MTU reached it";
    EXPECT_EQ(reason_count("pass_mtu") - too_big, 2u);
    expect_told_path_mtu(s, 1420);

    const std::uint64_t to_tun = delivered_to("fptun1");
    ASSERT_EQ(::send(s.get(), big.data(), 1392, 0), 1392);
    const auto fits = next_packet(*tun1, kArrivesMs);
    ASSERT_TRUE(fits);
    EXPECT_EQ(fits->size(), 1420u);
    EXPECT_EQ(delivered_to("fptun1") - to_tun, 1u);
}

// A userspace VPN client hands the kernel UDP segmentation offload super-packets through a
// tun with a virtio-net header (as wireguard-go does): one 1500-byte GSO packet from the
// tun goes through from_tun whole (checked against the container's MTU by its segments) and
// the container's socket receives its three 500-byte datagrams.
TEST_F(TunTest, ATunsSegmentationOffloadPacketsReachTheContainerWhole)
{
    // Linux 6.2's, newer than Debian's headers: UDP segmentation in virtio-net headers.
    constexpr std::uint8_t kGsoUdpL4 = 5, kNeedsCsum = 1;
    const auto gso = add_tun_endpoint("fptun4", IpAddr::parse("10.91.0.34"), IpAddr::parse("fd91::34"),
                                      TunOptions{.vnet_hdr = true});
    const Socket server = bound_socket_in_netns(c1().ns, c1().v4, 7001, SOCK_DGRAM);
    Packet p = udp(IpAddr::parse("10.91.0.34"), 40000, c1().v4, 7001);
    p.payload = 1500;
    Bytes packet = l3_of(p);
    // The offload contract: the checksum field holds the pseudo-header's sum, the kernel
    // completes each segment's.
    const std::uint64_t pseudo = pseudo_header(packet, 0, IPPROTO_UDP, packet.size() - 20);
    store16(packet, 26, fold(pseudo));
    // Little-endian fields: hdr_len 28, gso_size 500, csum_start 20, csum_offset 6.
    const std::uint8_t vnet[10] = {kNeedsCsum, kGsoUdpL4, 28, 0, 0xf4, 0x01, 20, 0, 6, 0};
    Bytes with_header(sizeof vnet + packet.size());
    std::copy(std::begin(vnet), std::end(vnet), with_header.begin());
    std::copy(packet.begin(), packet.end(), with_header.begin() + sizeof vnet);
    const std::uint64_t to_c1 = delivered_to("fpc1");
    ASSERT_EQ(gso->write_packet(with_header), 0);
    for (int i = 0; i < 3; ++i) {
        const Datagram d = receive(server);
        EXPECT_EQ(d.size, 500) << "datagram " << i;
        EXPECT_EQ(d.from(), "10.91.0.34 40000");
    }
    EXPECT_EQ(delivered_to("fpc1") - to_c1, 1u) << "one super-packet through flatpath";
}

// Two tun endpoints reach each other: routed (TTL down), no Ethernet header on either side.
TEST_F(TunTest, OneTunReachesAnother)
{
    const auto tun2 = add_tun_endpoint("fptun2", kTwo4, kTwo6);
    for (const auto &[src, dst] : {std::pair{kTun4, kTwo4}, std::pair{kTun6, kTwo6}}) {
        SCOPED_TRACE(dst.str());
        const Packet p = udp(src, 40000, dst, 7001);
        ASSERT_EQ(tun1->write_packet(l3_of(p)), 0);
        const auto got = next_packet(*tun2, kArrivesMs);
        ASSERT_TRUE(got) << "nothing reached fptun2";
        const Bytes want = l3_of(routed(p, {}, {}));
        EXPECT_EQ(*got, want) << hex_diff(want, *got);
    }
}

// A tun has no MAC: what its holder writes must come from an address registered on that
// very tun. Another tun's address and an unregistered one are dropped and counted; a
// packet whose IP version is not the protocol the device gave (a tun with packet
// information) is malformed. A tun without packet information refuses such a write itself.
TEST_F(TunTest, ATunMaySendOnlyFromItsOwnAddresses)
{
    const auto tun2 = add_tun_endpoint("fptun2", kTwo4, kTwo6);
    const auto tun3 = add_tun_endpoint("fptun3", IpAddr::parse("10.91.0.33"), IpAddr::parse("fd91::33"),
                                  TunOptions{.packet_info = true});
    FrameCapture at_c1(c1().ns, "eth0");

    const std::uint64_t spoofed = reason_count("drop_spoof_ip");
    EXPECT_EQ(tun1->write_packet(l3_of(udp(IpAddr::parse("10.91.0.99"), 40000, c1().v4, 7001))), 0);
    EXPECT_EQ(tun1->write_packet(l3_of(udp(kTwo4, 40000, c1().v4, 7001))), 0);
    EXPECT_EQ(tun1->write_packet(l3_of(udp(kTwo6, 40000, c1().v6, 7001))), 0);
    EXPECT_FALSE(at_c1.next(kAbsentMs)) << "a spoofed packet reached c1";
    EXPECT_EQ(reason_count("drop_spoof_ip") - spoofed, 3u);

    // Packet information: flags 0, then the protocol in network order.
    const auto with_pi = [](std::uint16_t proto, const Bytes &l3) {
        Bytes b = {0, 0, static_cast<std::uint8_t>(proto >> 8), static_cast<std::uint8_t>(proto)};
        b.insert(b.end(), l3.begin(), l3.end());
        return b;
    };
    const std::uint64_t malformed = reason_count("drop_malformed");
    EXPECT_EQ(tun3->write_packet(with_pi(ETH_P_IP, l3_of(udp(IpAddr::parse("fd91::33"), 40000, c1().v6, 7001)))), 0);
    EXPECT_FALSE(at_c1.next(kAbsentMs)) << "an IPv6 packet given as IPv4 reached c1";
    EXPECT_EQ(reason_count("drop_malformed") - malformed, 1u);
    // The same tun delivers what it labels right.
    const Packet ok = udp(IpAddr::parse("10.91.0.33"), 40000, c1().v4, 7001);
    EXPECT_EQ(tun3->write_packet(with_pi(ETH_P_IP, l3_of(ok))), 0);
    const auto got = at_c1.next(kArrivesMs);
    ASSERT_TRUE(got);
    EXPECT_EQ(*got, routed(ok, c1().host_mac, c1().mac).bytes());

    Bytes version5 = l3_of(udp(kTun4, 40000, c1().v4, 7001));
    version5[0] = 0x55;
    EXPECT_EQ(tun1->write_packet(version5), EINVAL) << "the tun driver takes a packet of no IP version";
}

// What a tun sends to the host itself is left to the stack, and the Ethernet header
// flatpath gave it does not get in the way: a host socket receives the datagram (IPv4,
// IPv6, and an IPv4 packet with options, which the stack must process), and the host's
// answer reaches the tun's holder.
TEST_F(TunTest, WhatATunSendsToTheHostReachesTheHostsSockets)
{
    for (const auto &[src, host_addr] : {std::pair{kTun4, IpAddr::parse("10.90.0.1")},
                                         std::pair{kTun6, IpAddr::parse("fd90::1")}}) {
        SCOPED_TRACE(host_addr.str());
        const Socket server = bound_socket_in_netns(topo->host_ns(), host_addr, 7009, SOCK_DGRAM);
        const Packet p = udp(src, 40000, host_addr, 7009);
        const std::uint64_t passed = reason_count("pass_no_endpoint");
        ASSERT_EQ(tun1->write_packet(l3_of(p)), 0);
        const Datagram got = receive(server);
        ASSERT_EQ(got.size, 32) << "the host's socket got nothing";
        EXPECT_EQ(got.from(), src.str() + " 40000");
        EXPECT_GE(reason_count("pass_no_endpoint") - passed, 1u);
        ASSERT_EQ(::sendto(server.get(), "back", 4, 0, reinterpret_cast<const sockaddr *>(&got.peer), got.peer_len), 4);
        const auto answer = next_packet(*tun1, kArrivesMs);
        ASSERT_TRUE(answer) << "the host's answer did not reach the tun";
        EXPECT_EQ(answer->size(), (src.is_v4() ? 20u : 40u) + 8 + 4);

        if (!src.is_v4())
            continue;
        const std::uint64_t options = reason_count("pass_ip_options");
        const Bytes frame = with_ipv4_options(p);
        ASSERT_EQ(tun1->write_packet(Bytes(frame.begin() + 14, frame.end())), 0);
        EXPECT_EQ(receive(server).size, 32) << "the packet with options did not arrive";
        EXPECT_EQ(reason_count("pass_ip_options") - options, 1u);
    }
}

// A published port whose backend is a tun endpoint: the LAN's datagram reaches the tun
// with the LAN client's address and the backend's port; the tun's answer leaves the
// uplink from the published address and port, routed to the client.
TEST_F(TunTest, APublishedPortsBackendCanBeATun)
{
    flatpath({"dnat", "add", "udp", "5354", kTun4.str() + ":53", "--host-ip", "10.90.0.1"});
    flatpath({"dnat", "add", "udp", "5354", "[" + kTun6.str() + "]:53", "--host-ip", "fd90::1"});
    const MacAddr lan0 = mac_of(topo->lan_ns(), "lan0"), up0 = mac_of(topo->host_ns(), topo->uplink());
    for (const auto &[published, client] : {std::pair{IpAddr::parse("10.90.0.1"), topo->lan_v4()},
                                            std::pair{IpAddr::parse("fd90::1"), topo->lan_v6()}}) {
        SCOPED_TRACE(published.str());
        const IpAddr &backend = published.is_v4() ? kTun4 : kTun6;
        Packet in = udp(client, 40000, published, 5354);
        in.src_mac = lan0;
        in.dst_mac = up0;
        send_frames(topo->lan_ns(), "lan0", {in.bytes()});
        const auto got = next_packet(*tun1, kArrivesMs);
        ASSERT_TRUE(got) << "nothing reached the tun";
        Packet want = routed(in, {}, {});
        want.dst = backend;
        want.dport = 53;
        EXPECT_EQ(*got, l3_of(want)) << hex_diff(l3_of(want), *got);

        FrameCapture at_lan(topo->lan_ns(), "lan0");
        const Packet answer = udp(backend, 53, client, 40000);
        ASSERT_EQ(tun1->write_packet(l3_of(answer)), 0);
        const auto back = at_lan.next(kArrivesMs);
        ASSERT_TRUE(back) << "the answer did not reach the LAN";
        Packet want_back = routed(answer, up0, lan0);
        want_back.src = published;
        want_back.sport = 5354;
        EXPECT_EQ(*back, want_back.bytes()) << hex_diff(want_back.bytes(), *back);
    }
}

// The datagrams of a process holding a tun (a userspace stack) reach a real socket in a
// container with their own source, and the socket's answer (sent by the container's stack
// with checksum offload) reaches the process with checksums the kernel completed.
TEST_F(TunTest, AProcessHoldingATunTalksToASocketInAContainer)
{
    for (const auto &[src, dst] : {std::pair{kTun4, c1().v4}, std::pair{kTun6, c1().v6}}) {
        SCOPED_TRACE(dst.str());
        const Socket server = bound_socket_in_netns(c1().ns, dst, 7001, SOCK_DGRAM);
        Packet query = udp(src, 40000, dst, 7001);
        query.payload = 5;
        ASSERT_EQ(tun1->write_packet(l3_of(query)), 0);
        const Datagram got_query = receive(server);
        EXPECT_EQ(got_query.size, 5) << "the socket got nothing";
        EXPECT_EQ(got_query.from(), src.str() + " 40000");

        const std::string answer = "answer from the container";
        ASSERT_EQ(::sendto(server.get(), answer.data(), answer.size(), 0,
                           reinterpret_cast<const sockaddr *>(&got_query.peer), got_query.peer_len),
                  static_cast<ssize_t>(answer.size()));
        const auto got = next_packet(*tun1, kArrivesMs);
        ASSERT_TRUE(got) << "the answer did not reach the tun";
        const Bytes &p = *got;
        const std::size_t l4 = src.is_v4() ? 20 : 40;
        ASSERT_EQ(p.size(), l4 + 8 + answer.size());
        EXPECT_EQ(std::string(p.begin() + l4 + 8, p.end()), answer);
        EXPECT_EQ(load16(p, l4), 7001);
        EXPECT_EQ(load16(p, l4 + 2), 40000);
        if (src.is_v4()) {
            EXPECT_TRUE(checksum_ok(p, 0, 20)) << "IPv4 header checksum";
        }
        EXPECT_TRUE(checksum_ok(p, l4, p.size(), pseudo_header(p, 0, IPPROTO_UDP, p.size() - l4))) << "UDP checksum";
    }
}

// An L3 uplink (a VPN client's tun; WireGuard's stand-in): tc only, from_l3_uplink. What
// the VPN side sends to a container, directly or to a published address, arrives with an
// Ethernet header and the VPN client's own source (IPv6 behind an extension header chain);
// the container's reply to the published port leaves through the tun from the published
// address (the kernel strips the header).
TEST_F(TunTest, AnL3UplinkDeliversAndPublishesIntoContainers)
{
    const auto vpn = add_vpn_uplink("fpvpn0");
    const nlohmann::json status = flatpath_json({"status", "--json"});
    bool listed = false;
    for (const auto &i : status["interfaces"]) {
        if (i["name"] != "fpvpn0")
            continue;
        listed = true;
        EXPECT_EQ(i["tc_ingress"], "attached");
        EXPECT_FALSE(i.contains("xdp"));
        EXPECT_TRUE(i["healthy"].get<bool>());
    }
    EXPECT_TRUE(listed) << status.dump();
    flatpath({"dnat", "add", "udp", "5355", c1().v4.str() + ":7001", "--host-ip", kVpnHost4.str()});
    flatpath({"dnat", "add", "udp", "5355", "[" + c1().v6.str() + "]:7001", "--host-ip", kVpnHost6.str()});
    const Socket s4 = bound_socket_in_netns(c1().ns, c1().v4, 7001, SOCK_DGRAM);
    const Socket s6 = bound_socket_in_netns(c1().ns, c1().v6, 7001, SOCK_DGRAM);

    for (const auto &[peer, published] : {std::pair{kVpnPeer4, kVpnHost4}, std::pair{kVpnPeer6, kVpnHost6}}) {
        const IpAddr &c1_addr = peer.is_v4() ? c1().v4 : c1().v6;
        SCOPED_TRACE(c1_addr.str());
        const std::uint64_t fwd_before = stack_forwarded(topo->host_ns());
        const std::uint64_t to_c1 = delivered_to("fpc1");
        FrameCapture at_c1(c1().ns, "eth0");

        const Packet direct = udp(peer, 40000, c1_addr, 7001);
        ASSERT_EQ(vpn->write_packet(l3_of(direct)), 0);
        auto got = at_c1.next(kArrivesMs);
        ASSERT_TRUE(got) << "the direct packet did not reach c1";
        EXPECT_EQ(*got, routed(direct, c1().host_mac, c1().mac).bytes());

        Packet to_published = udp(peer, 40001, published, 5355);
        if (!peer.is_v4())
            to_published.ipv6_ext = {60, 43}; // destination options, then a routing header
        ASSERT_EQ(vpn->write_packet(l3_of(to_published)), 0);
        got = at_c1.next(kArrivesMs);
        ASSERT_TRUE(got) << "the published port's packet did not reach c1";
        Packet want = routed(to_published, c1().host_mac, c1().mac);
        want.dst = c1_addr;
        want.dport = 7001;
        EXPECT_EQ(*got, want.bytes()) << hex_diff(want.bytes(), *got);

        const Packet reply = from_c1(udp(c1_addr, 7001, peer, 40001));
        send_frames(c1().ns, "eth0", {reply.bytes()});
        const auto back = next_packet(*vpn, kArrivesMs);
        ASSERT_TRUE(back) << "the reply did not reach the VPN side";
        Packet want_back = routed(reply, {}, {});
        want_back.src = published;
        want_back.sport = 5355;
        EXPECT_EQ(*back, l3_of(want_back)) << hex_diff(l3_of(want_back), *back);

        EXPECT_EQ(delivered_to("fpc1") - to_c1, 2u);
        EXPECT_EQ(stack_forwarded(topo->host_ns()) - fwd_before, 0u) << "the host stack forwarded them";
    }
}

// Marked replies follow the host's policy routing, into a tun too: a published port's
// reply carries its mark, and `ip rule fwmark` sends it out of the VPN tun although the
// main table would route the LAN client through the LAN uplink.
TEST_F(TunTest, AMarkedReplyLeavesThroughATunByPolicyRouting)
{
    const auto vpn = add_vpn_uplink("fpvpn0");
    flatpath({"dnat", "add", "udp", "5356", c1().v4.str() + ":7001"});
    flatpath({"mark", "add", "udp", "7001", "0x100/0xf00", "--ip", c1().v4.str()});
    host({"ip", "rule", "add", "fwmark", "0x100/0xf00", "table", "100"});
    host({"ip", "route", "add", "default", "dev", "fpvpn0", "table", "100"});
    const Socket absorb = bound_socket_in_netns(c1().ns, c1().v4, 7001, SOCK_DGRAM);
    const MacAddr lan0 = mac_of(topo->lan_ns(), "lan0"), up0 = mac_of(topo->host_ns(), topo->uplink());

    Packet in = udp(topo->lan_v4(), 40000, IpAddr::parse("10.90.0.1"), 5356);
    in.src_mac = lan0;
    in.dst_mac = up0;
    FrameCapture at_c1(c1().ns, "eth0");
    send_frames(topo->lan_ns(), "lan0", {in.bytes()});
    ASSERT_TRUE(at_c1.next(kArrivesMs)) << "the published port's packet did not reach c1";

    FrameCapture at_lan(topo->lan_ns(), "lan0");
    const Packet reply = from_c1(udp(c1().v4, 7001, topo->lan_v4(), 40000));
    send_frames(c1().ns, "eth0", {reply.bytes()});
    const auto back = next_packet(*vpn, kArrivesMs);
    ASSERT_TRUE(back) << "the marked reply did not leave through the tun";
    Packet want = routed(reply, {}, {});
    want.src = IpAddr::parse("10.90.0.1");
    want.sport = 5356;
    EXPECT_EQ(*back, l3_of(want)) << hex_diff(l3_of(want), *back);
    EXPECT_FALSE(at_lan.next(kAbsentMs)) << "the marked reply went to the LAN too";
}

// A subnet routed through a tun (a VPN's far side) is reachable from containers: the host
// routes their datagrams into the tun; the far side's answers, arriving on the tun, reach
// the container's socket through flatpath.
TEST_F(TunTest, ASubnetRoutedThroughATunIsReachableFromContainers)
{
    const auto vpn = add_vpn_uplink("fpvpn0");
    host({"ip", "route", "add", "198.18.0.0/24", "dev", "fpvpn0"});
    const Socket s = bound_socket_in_netns(c1().ns, c1().v4, 7001, SOCK_DGRAM);
    const IpAddr far = IpAddr::parse("198.18.0.5");
    const std::string hello = "hello far side";
    const SockAddr sa = sockaddr_of(far, 53);
    ASSERT_EQ(::sendto(s.get(), hello.data(), hello.size(), 0, sa.ptr(), sa.len), static_cast<ssize_t>(hello.size()));
    const auto out = next_packet(*vpn, kArrivesMs);
    ASSERT_TRUE(out) << "nothing left through the tun";
    const Bytes &p = *out;
    ASSERT_EQ(p.size(), 28 + hello.size());
    EXPECT_EQ(IpAddr::parse(std::to_string(p[12]) + "." + std::to_string(p[13]) + "." + std::to_string(p[14]) + "." +
                            std::to_string(p[15])),
              c1().v4)
        << "the container's own source address";
    EXPECT_TRUE(checksum_ok(p, 20, p.size(), pseudo_header(p, 0, IPPROTO_UDP, p.size() - 20)));

    const std::uint64_t to_c1 = delivered_to("fpc1");
    Packet answer = udp(far, 53, c1().v4, 7001);
    answer.payload = 7;
    ASSERT_EQ(vpn->write_packet(l3_of(answer)), 0);
    const Datagram got = receive(s);
    EXPECT_EQ(got.size, 7) << "the answer did not reach the container";
    EXPECT_EQ(got.from(), "198.18.0.5 53");
    EXPECT_EQ(delivered_to("fpc1") - to_c1, 1u) << "flatpath did not deliver the answer";
}

// Containers' flows out through a VPN tun (MTU 1420, WireGuard's) are masqueraded in BPF; a
// datagram too large for the tun with DF set is not translated but answered by the host
// ("fragmentation needed": the container's socket learns the path MTU), and the smaller
// ones that follow leave masqueraded, one of exactly the MTU too; one without DF is dropped
// (drop_frag_needed), never sent on untranslated.
TEST_F(TunTest, AMasqueradedFlowIntoASmallerTunLearnsThePathMtu)
{
    const auto vpn = add_vpn_uplink("fpvpn0");
    host({"ip", "link", "set", "fpvpn0", "mtu", "1420"});
    host({"ip", "route", "add", "198.18.0.0/24", "dev", "fpvpn0"});
    flatpath({"masq", "add", "10.91.0.0/24", "--out", "fpvpn0"});
    const Socket s = bound_socket_in_netns(c1().ns, c1().v4, 7001, SOCK_DGRAM);
    const SockAddr to = sockaddr_of(IpAddr::parse("198.18.0.5"), 53);
    ASSERT_EQ(::connect(s.get(), to.ptr(), to.len), 0);
    const int pmtudisc_do = IP_PMTUDISC_DO;
    ASSERT_EQ(::setsockopt(s.get(), IPPROTO_IP, IP_MTU_DISCOVER, &pmtudisc_do, sizeof pmtudisc_do), 0);
    const auto source_of = [](const Bytes &p) {
        return std::to_string(p[12]) + "." + std::to_string(p[13]) + "." + std::to_string(p[14]) + "." +
               std::to_string(p[15]);
    };

    ASSERT_EQ(::send(s.get(), "hello", 5, 0), 5);
    const auto first = next_packet(*vpn, kArrivesMs);
    ASSERT_TRUE(first) << "nothing left through the tun";
    EXPECT_EQ(source_of(*first), "10.99.0.1") << "masqueraded to the tun's address";

    const std::string big(1450, 'x');
    const std::uint64_t too_big = reason_count("pass_mtu");
    ASSERT_EQ(::send(s.get(), big.data(), big.size(), 0), static_cast<ssize_t>(big.size()));
    EXPECT_FALSE(next_packet(*vpn, kAbsentMs)) << "a packet larger than the tun's MTU went into it";
    EXPECT_EQ(reason_count("pass_mtu") - too_big, 1u);
    expect_told_path_mtu(s, 1420);

    // Exactly the MTU: leaves masqueraded (the kernel's own check, which counts the 14 bytes
    // of Ethernet header as IP on a tun, once sent such packets to the stack untranslated).
    ASSERT_EQ(::send(s.get(), big.data(), 1392, 0), 1392);
    const auto fits = next_packet(*vpn, kArrivesMs);
    ASSERT_TRUE(fits);
    EXPECT_EQ(fits->size(), 1420u);
    EXPECT_EQ(source_of(*fits), "10.99.0.1");

    // Without DF, to a destination whose path MTU the container does not know: a router
    // would fragment after translating; flatpath drops it rather than let the stack send it
    // on with the container's address.
    const Socket other = bound_socket_in_netns(c1().ns, c1().v4, 7002, SOCK_DGRAM);
    const int dont = IP_PMTUDISC_DONT;
    ASSERT_EQ(::setsockopt(other.get(), IPPROTO_IP, IP_MTU_DISCOVER, &dont, sizeof dont), 0);
    const SockAddr far = sockaddr_of(IpAddr::parse("198.18.0.6"), 53);
    ASSERT_EQ(::sendto(other.get(), "first", 5, 0, far.ptr(), far.len), 5);
    ASSERT_TRUE(next_packet(*vpn, kArrivesMs));
    const std::uint64_t dropped = reason_count("drop_frag_needed");
    ASSERT_EQ(::sendto(other.get(), big.data(), big.size(), 0, far.ptr(), far.len), static_cast<ssize_t>(big.size()));
    EXPECT_FALSE(next_packet(*vpn, kAbsentMs)) << "something of the datagram left, translated or not";
    EXPECT_EQ(reason_count("drop_frag_needed") - dropped, 1u);
}

// A tap stands for a VM's NIC: an L2 port not in a namespace. Frames between the "VM" and a
// veth container are routed by flatpath both ways (exact frames); and with a guest that
// answers (TapVm), a container's socket and the host's own socket exchange datagrams with
// it (the host's through the stack, which asks ARP and NDP first), and so does a LAN client
// through a port published with the guest as its backend.
TEST_F(TunTest, ATapVmExchangesFramesWithAContainer)
{
    const MacAddr vm_mac = MacAddr::parse("02:fd:00:00:00:41");
    const IpAddr vm4 = IpAddr::parse("10.91.0.41"), vm6 = IpAddr::parse("fd91::41");
    const TunDevice tap(topo->host_ns(), "fptap1", TunMode::Tap);
    host({"ip", "link", "set", "fptap1", "up"});
    flatpath({"endpoint", "add", vm4.str(), vm6.str(), "--dev", "fptap1", "--mac", vm_mac.str()});
    const MacAddr tap_mac = mac_of(topo->host_ns(), "fptap1");
    const Socket s4 = bound_socket_in_netns(c1().ns, c1().v4, 7001, SOCK_DGRAM);
    const Socket s6 = bound_socket_in_netns(c1().ns, c1().v6, 7001, SOCK_DGRAM);

    for (const auto &[vm, c1_addr] : {std::pair{vm4, c1().v4}, std::pair{vm6, c1().v6}}) {
        SCOPED_TRACE(vm.str());
        FrameCapture at_c1(c1().ns, "eth0");
        Packet out = udp(vm, 40000, c1_addr, 7001);
        out.src_mac = vm_mac;
        out.dst_mac = tap_mac; // the guest's gateway is the host's side of the tap
        ASSERT_EQ(tap.write_packet(out.bytes()), 0);
        const auto got = at_c1.next(kArrivesMs);
        ASSERT_TRUE(got) << "nothing reached c1";
        EXPECT_EQ(*got, routed(out, c1().host_mac, c1().mac).bytes());

        const Packet back = from_c1(udp(c1_addr, 7001, vm, 40000));
        send_frames(c1().ns, "eth0", {back.bytes()});
        const auto read = next_packet(tap, kArrivesMs, ETH_HLEN);
        ASSERT_TRUE(read) << "nothing reached the tap";
        const Bytes want = routed(back, tap_mac, vm_mac).bytes();
        EXPECT_EQ(*read, want) << hex_diff(want, *read);
    }

    const IpAddr guest4 = IpAddr::parse("10.91.0.42"), guest6 = IpAddr::parse("fd91::42");
    const TapVm guest(topo->host_ns(), "fptap2", MacAddr::parse("02:fd:00:00:00:42"), {guest4, guest6});
    host({"ip", "link", "set", "fptap2", "up"});
    host({"ip", "route", "add", guest4.str() + "/32", "dev", "fptap2"});
    host({"ip", "-6", "route", "add", guest6.str() + "/128", "dev", "fptap2"});
    flatpath({"endpoint", "add", guest4.str(), guest6.str(), "--dev", "fptap2", "--mac", "02:fd:00:00:00:42"});
    for (const IpAddr *g : {&guest4, &guest6}) {
        SCOPED_TRACE(g->str());
        const std::uint64_t to_guest = delivered_to("fptap2");
        const Socket from_c1 = bound_socket_in_netns(c1().ns, g->is_v4() ? c1().v4 : c1().v6, 7002, SOCK_DGRAM);
        const Datagram echo = exchange(from_c1, *g, 7, "ping the guest");
        EXPECT_EQ(echo.text, "ping the guest");
        EXPECT_EQ(echo.from(), g->str() + " 7");
        EXPECT_EQ(delivered_to("fptap2") - to_guest, 1u) << "flatpath did not deliver it";

        const Socket from_host = bound_socket_in_netns(topo->host_ns(), g->is_v4() ? IpAddr::parse("0.0.0.0")
                                                                                 : IpAddr::parse("::"),
                                                       0, SOCK_DGRAM);
        const Datagram host_echo = exchange(from_host, *g, 9, "from the host", 6000);
        EXPECT_EQ(host_echo.text, "from the host");
        EXPECT_EQ(host_echo.from(), g->str() + " 9");
    }
    EXPECT_GE(guest.neighbour_answers(), 2u) << "the host's stack asked ARP and NDP";

    // The guest as a published port's backend: the LAN's datagram reaches it with the
    // client's address, its echo comes back from the published address.
    flatpath({"dnat", "add", "udp", "5357", guest4.str() + ":7"});
    const Socket lan = bound_socket_in_netns(topo->lan_ns(), topo->lan_v4(), 0, SOCK_DGRAM);
    const std::uint64_t to_guest = delivered_to("fptap2");
    const Datagram published = exchange(lan, IpAddr::parse("10.90.0.1"), 5357, "to the published guest");
    EXPECT_EQ(published.text, "to the published guest");
    EXPECT_EQ(published.from(), "10.90.0.1 5357");
    EXPECT_EQ(delivered_to("fptap2") - to_guest, 1u);
}

// Bad tun/tap input: one clear line each, nothing changed. (An MTU below 1280 is refused
// because the datapath compares only longer packets with a device's MTU.)
TEST_F(TunTest, BadTunAndTapInputIsRefusedAndChangesNothing)
{
    const TunDevice vpn(topo->host_ns(), "fpvpn0", TunMode::Tun);
    const TunDevice tap(topo->host_ns(), "fptap9", TunMode::Tap);
    const TunDevice tun(topo->host_ns(), "fptun9", TunMode::Tun);
    for (const char *dev : {"fpvpn0", "fptap9", "fptun9"})
        host({"ip", "link", "set", dev, "up"});
    const auto state = [&] {
        return flatpath({"status", "--json"}) + flatpath({"endpoint", "list", "--json"}) +
               host({"tc", "qdisc", "show"}) + host({"ip", "link", "show", "fpvpn0"});
    };
    for (const char *mode : {"native", "generic"}) {
        expect_refused_keeping({"attach", "fpvpn0", "--role", "uplink", "--xdp-mode", mode},
                               "fpvpn0 is an L3 device (no Ethernet header): XDP cannot run on it", state);
        expect_refused_keeping({"up", "--uplink", "fpvpn0", "--xdp-mode", mode}, "fpvpn0 is an L3 device", state);
    }
    expect_refused_keeping({"endpoint", "add", "10.91.0.50", "--dev", "fptun9", "--mac", "02:fd:00:00:00:50"},
                           "fptun9 is a tun device (no Ethernet header): --mac does not apply", state);
    expect_refused_keeping({"endpoint", "add", "10.91.0.51", "--dev", "fptap9"},
                           "fptap9 is a tap device: --mac (the container's MAC) is required", state);
    host({"ip", "link", "set", "fptun9", "mtu", "1000"});
    expect_refused_keeping({"endpoint", "add", "10.91.0.52", "--dev", "fptun9"},
                           "fptun9 has MTU 1000: an endpoint device needs at least 1280 (IPv6's minimum)", state);
    expect_refused_keeping({"attach", "fptun9", "--role", "uplink"},
                           "fptun9 has MTU 1000: an uplink needs at least 1280 (IPv6's minimum)", state);
}

} // namespace
} // namespace fp::test

// Traffic through the real datapath: veths, namespaces, sockets. Each test
// checks what a user would (bytes and datagrams arrived, from the sender's own
// address) and that flatpath carried them: the endpoint's delivery counter grew
// by at least as many packets, and the host's own IP forwarding counters did not
// move. Every `flatpath` call is a process that has exited before the traffic
// starts, so these also prove that forwarding does not need the loader running.
#include "demo.hpp"
#include "error.hpp"
#include "map_set.hpp"
#include "eventually.hpp"
#include "packet.hpp"
#include "netns_fixture.hpp"

namespace fp::test {
namespace {

constexpr unsigned kDatagrams = 2000;

// Containers on one host reach each other through from_container and bpf_redirect_peer.
TEST_F(NetnsTest, ContainerToContainerIPv4AndIPv6)
{
    start();
    EXPECT_EQ(ping(c1().ns, c2().v4.str(), 3), 3u);
    EXPECT_EQ(ping(c1().ns, c2().v6.str(), 3), 3u);

    for (const IpAddr *dst : {&c2().v4, &c2().v6}) {
        SCOPED_TRACE(dst->str());
        const IpAddr &src = dst->is_v4() ? c1().v4 : c1().v6;
        const Received tcp = tcp_transfer(c2().ns, *dst, 7001, c1().ns, 4 << 20);
        EXPECT_EQ(tcp.bytes, 4u << 20);
        EXPECT_EQ(tcp.peer, src.str());

        const std::uint64_t fwd_before = stack_forwarded(topo->host_ns());
        const std::uint64_t to_before = delivered_to("fpc2");
        const Received udp = udp_send(c2().ns, *dst, 7002, c1().ns, kDatagrams);
        EXPECT_EQ(udp.messages, kDatagrams);
        EXPECT_EQ(udp.peer, src.str());
        EXPECT_GE(delivered_to("fpc2") - to_before, kDatagrams) << "flatpath did not deliver them";
        EXPECT_EQ(stack_forwarded(topo->host_ns()) - fwd_before, 0u) << "the host stack forwarded them";
    }
}

// The host itself still reaches its containers (the stack's own route and neighbour).
TEST_F(NetnsTest, HostToContainerStillGoesThroughTheStack)
{
    start();
    EXPECT_EQ(ping(topo->host_ns(), c1().v4.str(), 2), 2u);
    EXPECT_EQ(ping(topo->host_ns(), c1().v6.str(), 2), 2u);
}

// Without flatpath the host stack forwards (the baseline these tests compare against),
// and with it the same traffic stops touching the stack: the counters can tell.
TEST_F(NetnsTest, WithoutTheDatapathTheStackForwards)
{
    const std::uint64_t fwd_before = stack_forwarded(topo->host_ns());
    const Received udp = udp_send(c2().ns, c2().v4, 7003, c1().ns, 200);
    EXPECT_EQ(udp.messages, 200u);
    EXPECT_GE(stack_forwarded(topo->host_ns()) - fwd_before, 200u);
}

class UplinkTest : public NetnsTest, public ::testing::WithParamInterface<const char *> {};

// LAN hosts, whose veth keeps the kernel's default offloads (tx checksum and TSO on), reach
// containers through the uplink: on a veth uplink `auto` attaches tc only, generic XDP
// redirects through the devmap, off is tc only too; the container sees the LAN client's
// own address.
TEST_P(UplinkTest, LanToContainer)
{
    const std::string mode = GetParam();
    start(mode);
    const bool xdp = mode == "generic";
    const nlohmann::json status = flatpath_json({"status", "--json"});
    bool uplink_seen = false;
    for (const auto &i : status["interfaces"]) {
        EXPECT_TRUE(i["healthy"].get<bool>()) << i.dump();
        if (i["name"] == topo->uplink()) {
            uplink_seen = true;
            EXPECT_EQ(i["tc_ingress"], "attached");
            if (xdp)
                EXPECT_EQ(i["xdp"], mode);
            else
                EXPECT_FALSE(i.contains("xdp")) << i.dump();
        }
    }
    EXPECT_TRUE(uplink_seen);
    EXPECT_EQ(host({"ip", "-d", "link", "show", topo->uplink()}).find("prog/xdp") != std::string::npos, xdp);

    EXPECT_EQ(ping(topo->lan_ns(), c1().v4.str(), 3), 3u);
    EXPECT_EQ(ping(topo->lan_ns(), c1().v6.str(), 3), 3u);
    for (const IpAddr *dst : {&c1().v4, &c1().v6}) {
        SCOPED_TRACE(dst->str());
        const IpAddr &src = dst->is_v4() ? topo->lan_v4() : topo->lan_v6();
        const Received tcp = tcp_transfer(c1().ns, *dst, 7004, topo->lan_ns(), 4 << 20);
        EXPECT_EQ(tcp.bytes, 4u << 20);
        EXPECT_EQ(tcp.peer, src.str());

        const std::uint64_t fwd_before = stack_forwarded(topo->host_ns());
        const std::uint64_t to_before = delivered_to("fpc1");
        const Received udp = udp_send(c1().ns, *dst, 7005, topo->lan_ns(), kDatagrams);
        EXPECT_EQ(udp.messages, kDatagrams);
        EXPECT_EQ(udp.peer, src.str());
        EXPECT_GE(delivered_to("fpc1") - to_before, kDatagrams);
        EXPECT_EQ(stack_forwarded(topo->host_ns()) - fwd_before, 0u);
    }
    // Generic XDP gets the sender's TSO aggregates as they are: xdp_uplink leaves them to
    // tc (which forwards skbs of any size) instead of redirecting what a devmap drops.
    std::uint64_t gso = 0;
    const nlohmann::json stats = flatpath_json({"stats", "--json"});
    for (const auto &r : stats["reasons"])
        if (r["hook"] == "xdp_uplink" && r["reason"] == "pass_gso")
            gso += r["packets"].get<std::uint64_t>();
    if (xdp)
        EXPECT_GT(gso, 0u) << "no aggregate reached xdp_uplink: does the LAN sender still have TSO on? " << stats;
    else
        EXPECT_EQ(gso, 0u);
}

INSTANTIATE_TEST_SUITE_P(XdpModes, UplinkTest, ::testing::Values("auto", "generic", "off"));

// The one place native XDP runs on a veth uplink, to show what `auto` avoids: asked for
// explicitly it attaches with a one-line warning, `doctor` reports it with the fix, and
// what the warning predicts happens: a LAN sender with default offloads hands over TCP
// segments whose checksums the redirect leaves incomplete, the container drops them
// (TcpInCsumErrors) and the connection never completes. Re-attached in auto mode, the
// same transfer works.
TEST_F(NetnsTest, NativeXdpOnAVethUplinkBreaksOffloadingSenders)
{
    topo->start_datapath(FLATPATH_BIN, "auto");
    const CommandResult native = flatpath_result({"attach", topo->uplink(), "--role", "uplink", "--xdp-mode", "native"});
    ASSERT_EQ(native.status, 0) << native.output;
    EXPECT_NE(native.output.find("flatpath: warning: native XDP on veth device " + topo->uplink() +
                                 " breaks traffic from local senders with checksum offload"),
              std::string::npos)
        << native.output;
    const nlohmann::json status = flatpath_json({"status", "--json"});
    bool native_seen = false;
    for (const auto &i : status["interfaces"])
        native_seen = native_seen || (i["name"] == topo->uplink() && i.value("xdp", "") == "native");
    EXPECT_TRUE(native_seen) << status.dump();

    const CommandResult doctor = flatpath_result({"doctor"});
    EXPECT_EQ(doctor.status, 3) << doctor.output;
    EXPECT_NE(doctor.output.find("native XDP on veth device " + topo->uplink()), std::string::npos) << doctor.output;
    EXPECT_NE(doctor.output.find("flatpath attach " + topo->uplink() + " --role uplink --xdp-mode auto"),
              std::string::npos)
        << doctor.output;

    const std::uint64_t csum_before = snmp_counter(c1().ns, "Tcp", "InCsumErrors");
    EXPECT_THROW(tcp_transfer(c1().ns, c1().v4, 7007, topo->lan_ns(), 1 << 20), Error);
    EXPECT_GT(snmp_counter(c1().ns, "Tcp", "InCsumErrors"), csum_before);

    flatpath({"attach", topo->uplink(), "--role", "uplink", "--xdp-mode", "auto"});
    EXPECT_EQ(host({"ip", "-d", "link", "show", topo->uplink()}).find("prog/xdp"), std::string::npos);
    EXPECT_EQ(flatpath_result({"doctor"}).status, 0);
    EXPECT_EQ(tcp_transfer(c1().ns, c1().v4, 7008, topo->lan_ns(), 1 << 20).bytes, 1u << 20);
}

// A container cannot hide a spoofed source behind VLAN tags: frames with two VID-0 tags
// (802.1Q and 802.1ad outside) around UDP from its neighbour's address to the LAN, and a
// single-tagged one from its own address, are sent raw from c1's eth0. The stack would
// strip VID-0 tags and route them; from_container drops every tagged frame (drop_vlan):
// the LAN receives nothing and the host forwards nothing.
TEST_F(NetnsTest, VlanTagsNeverCarryASpoofedSourceOut)
{
    start();
    const auto frame = [&](std::uint16_t outer_tpid, const IpAddr &src) {
        Packet p;
        p.src_mac = c1().mac;
        p.dst_mac = c1().host_mac;
        p.src = src;
        p.dst = topo->lan_v4();
        p.dport = 7009;
        p.vlan = 0;
        Bytes b = p.bytes();
        if (outer_tpid) {
            const std::uint8_t tag[] = {static_cast<std::uint8_t>(outer_tpid >> 8), static_cast<std::uint8_t>(outer_tpid), 0, 0};
            b.insert(b.begin() + 12, std::begin(tag), std::end(tag));
        }
        return b;
    };
    std::vector<Bytes> frames;
    for (int i = 0; i < 10; ++i) {
        frames.push_back(frame(0x8100, c2().v4));
        frames.push_back(frame(0x88a8, c2().v4));
        frames.push_back(frame(0, c1().v4));
    }
    const std::uint64_t fwd_before = stack_forwarded(topo->host_ns());
    const std::uint64_t lan_before = snmp_counter(topo->lan_ns(), "Udp", "NoPorts") +
                                     snmp_counter(topo->lan_ns(), "Udp", "InDatagrams");
    send_frames(c1().ns, "eth0", frames);
    ::usleep(200000);
    EXPECT_EQ(snmp_counter(topo->lan_ns(), "Udp", "NoPorts") + snmp_counter(topo->lan_ns(), "Udp", "InDatagrams"),
              lan_before)
        << "a tagged frame reached the LAN";
    EXPECT_EQ(stack_forwarded(topo->host_ns()), fwd_before) << "the host routed a tagged frame";
    std::uint64_t dropped = 0;
    const nlohmann::json stats = flatpath_json({"stats", "--json"});
    for (const auto &r : stats["reasons"])
        if (r["hook"] == "from_container" && r["reason"] == "drop_vlan")
            dropped += r["packets"].get<std::uint64_t>();
    EXPECT_EQ(dropped, frames.size()) << stats;
}

// From the LAN, a packet with a local container's address as its source (c2's, to c1)
// is a spoof: XDP and tc take traffic for endpoints before the stack's rp_filter could
// judge it, so flatpath drops it itself (drop_spoof_ip), with the host's rp_filter as it
// is. Sent raw from the LAN, IPv4 and IPv6: c1's stack receives none of them.
TEST_F(NetnsTest, TheLanCannotSendFromAContainersAddress)
{
    start();
    const MacAddr lan_mac = MacAddr::parse(lab->in(topo->lan_ns(), {"cat", "/sys/class/net/lan0/address"}).substr(0, 17));
    const MacAddr up_mac =
        MacAddr::parse(host({"cat", "/sys/class/net/" + topo->uplink() + "/address"}).substr(0, 17));
    std::vector<Bytes> frames;
    for (const bool v6 : {false, true}) {
        Packet p;
        p.src_mac = lan_mac;
        p.dst_mac = up_mac;
        p.l3 = v6 ? L3::IPv6 : L3::IPv4;
        p.src = v6 ? c2().v6 : c2().v4;
        p.dst = v6 ? c1().v6 : c1().v4;
        p.dport = 7011;
        for (int i = 0; i < 10; ++i)
            frames.push_back(p.bytes());
    }
    const auto c1_udp = [&] {
        return snmp_counter(c1().ns, "Udp", "NoPorts") + snmp_counter(c1().ns, "Udp", "InDatagrams") +
               snmp_counter(c1().ns, "Udp6", "Udp6NoPorts") + snmp_counter(c1().ns, "Udp6", "Udp6InDatagrams");
    };
    const std::uint64_t before = c1_udp();
    send_frames(topo->lan_ns(), "lan0", frames);
    const auto dropped = [&] {
        std::uint64_t n = 0;
        const nlohmann::json stats = flatpath_json({"stats", "--json"}); // the loop must not outlive it
        for (const auto &r : stats["reasons"])
            if (r["reason"] == "drop_spoof_ip")
                n += r["packets"].get<std::uint64_t>();
        return n;
    };
    // The receive side runs in softirq, which a loaded machine may put off for a while.
    EXPECT_TRUE(eventually([&] { return dropped() >= frames.size(); }, 5))
        << flatpath_json({"stats", "--json"})["reasons"];
    EXPECT_EQ(dropped(), frames.size());
    EXPECT_EQ(c1_udp(), before) << "a spoofed packet reached c1";
}

// Every change to the tables moves the datapath's generation on (fp_config), so that an
// established flow's cached route (lib/flow_cache.h) is resolved again at its next packet
// and none is delivered by what the tables no longer say: endpoints, published ports,
// marks and masquerade, each added and removed through the CLI.
TEST_F(NetnsTest, EveryTableChangeMovesTheGenerationOn)
{
    start();
    const auto generation = [&] { return MapSet::open_pinned(lab->pin_root()).config.lookup(0)->generation; };
    const std::string c2v4 = c2().v4.str();
    const std::vector<std::vector<std::string>> changes = {
        {"endpoint", "del", c2v4},
        {"endpoint", "add", c2v4, "--dev", c2().host_if, "--mac", c2().mac.str()},
        {"dnat", "add", "tcp", "8123", c1().v4.str() + ":80"},
        {"dnat", "del", "tcp", "8123"},
        {"mark", "add", "tcp", "80", "0x4", "--ip", c1().v4.str()},
        {"mark", "del", "tcp", "80", "--ip", c1().v4.str()},
        {"masq", "add", "10.93.0.0/24"},
        {"masq", "del", "10.93.0.0/24"}};
    std::uint32_t before = generation();
    for (const auto &change : changes) {
        flatpath(change);
        const std::uint32_t now = generation();
        EXPECT_NE(now, before) << change[0] << " " << change[1];
        before = now;
    }
}

// The datapath looks a packet's mark up only in the key shapes that rules exist of
// (lib/mark.h), so the counts of each shape must follow every rule added and removed
// through the CLI, and `up` recounts the same from the table.
TEST_F(NetnsTest, MarkRulesAreCountedByTheirShape)
{
    start();
    const auto counts = [&] {
        const fp_config c = *MapSet::open_pinned(lab->pin_root()).config.lookup(0);
        return std::vector<std::uint32_t>{c.mark_rules, c.mark_any_source, c.mark_destinations, c.mark_any_destination};
    };
    const std::string c1v4 = c1().v4.str();
    const std::vector<std::vector<std::string>> rules = {{"tcp", "80", "0x4", "--ip", c1v4},
                                                         {"udp", "53", "0x5"},
                                                         {"tcp", "443", "0x6", "--to", "--ip", "10.93.0.9"},
                                                         {"tcp", "8443", "0x7", "--to"}};
    const std::vector<std::vector<std::uint32_t>> after_each = {{1, 0, 0, 0}, {2, 1, 0, 0}, {3, 1, 1, 0}, {4, 1, 2, 1}};
    for (std::size_t i = 0; i < rules.size(); ++i) {
        std::vector<std::string> add = {"mark", "add"};
        add.insert(add.end(), rules[i].begin(), rules[i].end());
        flatpath(add);
        EXPECT_EQ(counts(), after_each[i]) << "after mark add " << rules[i][0] << " " << rules[i][1];
    }
    flatpath({"up", "--uplink", topo->uplink()});
    EXPECT_EQ(counts(), after_each.back()) << "recounted by up";
    for (std::size_t i = rules.size(); i-- > 0;) {
        std::vector<std::string> del = {"mark", "del", rules[i][0], rules[i][1]};
        del.insert(del.end(), rules[i].begin() + 3, rules[i].end());
        flatpath(del);
        const std::vector<std::uint32_t> none(4, 0);
        EXPECT_EQ(counts(), i ? after_each[i - 1] : none)
            << "after mark del " << rules[i][0] << " " << rules[i][1];
    }
}

// Every address `endpoint add` writes has its prefix marked in fp_ep_prefixes (the datapath
// finds no endpoint in an unmarked one); `up` repairs the summary from the endpoint table:
// a lost mark set again (`doctor` names the endpoint it hid), a prefix no endpoint is in
// any more cleared.
TEST_F(NetnsTest, UpRebuildsTheEndpointPrefixesFromTheEndpoints)
{
    start();
    const auto marked = [&](const IpAddr &a) {
        const fp_addr raw = a.raw();
        return MapSet::open_pinned(lab->pin_root()).ep_prefixes.lookup(fp_ep_prefix_bucket(&raw)).value_or(0) != 0;
    };
    for (const IpAddr &a : {c1().v4, c1().v6, c2().v4, c2().v6})
        EXPECT_TRUE(marked(a)) << a.str();
    const IpAddr stale = IpAddr::parse("192.0.2.1");
    EXPECT_FALSE(marked(stale));
    {
        MapSet maps = MapSet::open_pinned(lab->pin_root());
        const fp_addr lost = c1().v4.raw(), gone = stale.raw();
        maps.ep_prefixes.upsert(fp_ep_prefix_bucket(&lost), 0);
        maps.ep_prefixes.upsert(fp_ep_prefix_bucket(&gone), 1);
    }
    const CommandResult doctor = flatpath_result({"doctor"});
    EXPECT_EQ(doctor.status, 3) << doctor.output;
    EXPECT_NE(doctor.output.find("endpoint " + c1().v4.str() + ": its prefix is not marked"), std::string::npos)
        << doctor.output;
    flatpath({"up", "--uplink", topo->uplink()});
    EXPECT_EQ(flatpath_result({"doctor"}).status, 0) << "repaired";
    EXPECT_TRUE(marked(c1().v4)) << "set again by up";
    EXPECT_FALSE(marked(stale)) << "cleared by up";
    const Received udp = udp_send(c2().ns, c2().v4, 7006, c1().ns, 10);
    EXPECT_EQ(udp.messages, 10u);
}

// An endpoint's last address removed: its device leaves the datapath, and traffic to it
// falls back to the host stack, which still routes it.
TEST_F(NetnsTest, RemovedEndpointFallsBackToTheStack)
{
    start();
    flatpath({"endpoint", "del", c2().v4.str(), c2().v6.str()});
    EXPECT_EQ(host({"tc", "filter", "show", "dev", "fpc2", "ingress"}), "");
    const std::uint64_t fwd_before = stack_forwarded(topo->host_ns());
    const Received udp = udp_send(c2().ns, c2().v4, 7006, c1().ns, 100);
    EXPECT_EQ(udp.messages, 100u);
    EXPECT_GE(stack_forwarded(topo->host_ns()) - fwd_before, 100u);
}

} // namespace
} // namespace fp::test

// The vxlan backend where host-gw cannot go: hosts a and b on two different links with a
// router (namespace rt) between them, etcd behind the router on a third; the cluster
// 10.51.0.0/16 + fd51::/56 with Backend vxlan (VNI 7). Each daemon makes its
// vxlan device flatpath.7 and records its MAC (VtepMAC); a container on a
// reaches one on b through the tunnel, its own address kept, and neither host's stack
// forwards container traffic (the router forwards the tunnel's UDP).
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>

#include "command.hpp"
#include "daemon_fixture.hpp"
#include "etcd_client.hpp"
#include "etcd_server.hpp"
#include "eventually.hpp"
#include "ip_pool.hpp"
#include "lab.hpp"
#include "missing_tool.hpp"
#include "netlink.hpp"
#include "netns_scope.hpp"
#include "subnet_env.hpp"
#include "topology.hpp"
#include "traffic.hpp"

namespace fp::test {
namespace {

class ClusterVxlanTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        FP_REQUIRE_TOOL(std::filesystem::exists("/usr/bin/etcd"), "etcd-server");
        char tmpl[] = "/tmp/flatpath-vxlan-test.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir = tmpl;
        lab = std::make_unique<Lab>("vx");
        rt = lab->add_netns("rt");
        lab->in(rt, {"sysctl", "-qw", "net.ipv4.ip_forward=1"}); // it is a router
        store_ns = lab->add_netns("store");
        link(store_ns, 83, 10);
        etcd = std::make_unique<EtcdServer>(store_ns, "192.168.83.10", 2379, dir + "/etcd");
        {
            NetnsScope in(store_ns);
            EtcdClient({etcd->url()}).put("/coreos.com/network/config",
                                          R"({"Network":"10.51.0.0/16","SubnetMax":"10.51.99.0","EnableIPv6":true,)"
                                          R"("IPv6Network":"fd51::/56","Backend":{"Type":"vxlan","VNI":7}})");
        }
        for (const auto &[name, net] : {std::pair{"a", 81}, std::pair{"b", 82}}) {
            const std::string ns = lab->add_netns(std::string("h") + name);
            link(ns, net, 2);
            hosts.push_back(ns);
            dirs.push_back(dir + "/" + name);
            std::filesystem::create_directories(dirs.back());
            pins.push_back(std::filesystem::path(lab->pin_root()).parent_path() / (std::string("host-") + name));
            daemons.push_back(std::make_unique<DaemonRunner>(ns, pins.back(), dirs.back()));
        }
    }
    void TearDown() override
    {
        for (auto &d : daemons)
            if (d && d->process)
                d->stop(SIGTERM);
        etcd.reset();
        lab.reset();
        if (!dir.empty())
            std::filesystem::remove_all(dir);
    }

    // ns on its own link 192.168.NET.0/24 to the router (.1), ns at .HOST, its default
    // route via the router.
    void link(const std::string &ns, int net, int host)
    {
        const std::string n = std::to_string(net);
        lab->add_veth(ns, "eth0", MacAddr::parse("02:" + n + ":00:00:00:0" + std::to_string(host % 10)), rt, "l" + n,
                      MacAddr::parse("02:" + n + ":00:00:01:01"));
        lab->in(rt, {"ip", "addr", "add", "192.168." + n + ".1/24", "dev", "l" + n});
        lab->in(ns, {"ip", "addr", "add", "192.168." + n + "." + std::to_string(host) + "/24", "dev", "eth0"});
        lab->in(ns, {"ip", "route", "add", "default", "via", "192.168." + n + ".1"});
        // A container host: what flatpath-cni (or Podman) turns on with its first container.
        lab->in(ns, {"sysctl", "-qw", "net.ipv4.ip_forward=1"});
        lab->in(ns, {"sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"});
    }
    // Packets the namespace's stack answered with "fragmentation needed" / "packet too big".
    static std::uint64_t answered_too_big(const std::string &ns)
    {
        return snmp_counter(ns, "Ip", "FragFails") + snmp_counter(ns, "Ip6", "Ip6FragFails");
    }
    std::string subnet_file(std::size_t i) const { return dirs[i] + "/subnet.env"; }
    SubnetEnv start(std::size_t i, const std::string &public_ip)
    {
        daemons[i]->start({"--runtime-api", dirs[i] + "/no-runtime.sock", "--uplink", "eth0", "--etcd-endpoints",
                           etcd->url(), "--public-ip", public_ip, "--lease-ttl", "6", "--subnet-file", subnet_file(i)});
        EXPECT_TRUE(eventually([&] { return std::filesystem::exists(subnet_file(i)); }, 20)) << daemons[i]->log();
        return SubnetEnv::read(subnet_file(i));
    }
    // A container of host i, as flatpath-cni would make it from the host's subnet.env but
    // with a 1500-byte link unless mtu says otherwise.
    Container container(std::size_t i, int n, const SubnetEnv &env, std::uint32_t mtu = 1500)
    {
        const Container c = add_routed_container(*lab, hosts[i], "c" + std::to_string(n), n, cni::addr_add(env.subnet->network, 5),
                                                 cni::addr_add(env.ipv6_subnet->network, 5), {});
        lab->in(c.ns, {"ip", "link", "set", "eth0", "mtu", std::to_string(mtu)});
        lab->in(hosts[i], {"ip", "link", "set", c.host_if, "mtu", std::to_string(mtu)});
        run_checked({"nsenter", "--net=/run/netns/" + hosts[i], FLATPATH_BIN, "--pin-root", pins[i], "endpoint", "add",
                     c.v4.str(), c.v6.str(), "--dev", c.host_if, "--mac", c.mac.str()});
        return c;
    }

    // Both daemons up with their tunnel routes to each other.
    std::pair<SubnetEnv, SubnetEnv> start_both()
    {
        const SubnetEnv ea = start(0, "192.168.81.2"), eb = start(1, "192.168.82.2");
        for (std::size_t i : {0u, 1u})
            EXPECT_TRUE(eventually([&] {
                return lab->in(hosts[i], {"ip", "route", "show", "proto", "241"}).find("dev flatpath.7") != std::string::npos;
            }, 15)) << daemons[i]->log();
        return {ea, eb};
    }

    std::string dir, rt, store_ns;
    std::unique_ptr<Lab> lab;
    std::unique_ptr<EtcdServer> etcd;
    std::vector<std::string> hosts, dirs, pins;
    std::vector<std::unique_ptr<DaemonRunner>> daemons;
};

// Scenario: containers on hosts behind a router reach each other through the tunnel (TCP,
// UDP, ping; IPv4 and IPv6 inside), each server seeing the client's own address; the
// records carry Flannel's vxlan BackendData; subnet.env's MTU leaves room for the header.
TEST_F(ClusterVxlanTest, ContainersBehindARouterReachEachOtherThroughTheTunnel)
{
    const auto [ea, eb] = start_both();
    EXPECT_EQ(ea.mtu, 1450u);
    {
        NetnsScope in(store_ns);
        const auto rec = EtcdClient({etcd->url()}).get_prefix("/coreos.com/network/subnets/").kvs;
        ASSERT_EQ(rec.size(), 2u);
        for (const auto &kv : rec) {
            const auto j = nlohmann::json::parse(kv.value);
            EXPECT_EQ(j["BackendType"], "vxlan");
            EXPECT_EQ(j["BackendData"]["VNI"], 7);
            EXPECT_TRUE(j["BackendData"]["VtepMAC"].is_string()) << kv.value;
        }
    }
    const Container ca = container(0, 4, ea), cb = container(1, 5, eb);
    const std::uint64_t a_fwd = stack_forwarded(hosts[0]), b_fwd = stack_forwarded(hosts[1]);
    const std::uint64_t a_big = answered_too_big(hosts[0]), b_big = answered_too_big(hosts[1]);
    const std::uint64_t router_fwd = stack_forwarded(rt);
    for (const auto &[client, server] : {std::pair{ca.v4, cb.v4}, std::pair{ca.v6, cb.v6}}) {
        SCOPED_TRACE(server.str());
        lab->in(ca.ns, {"ping", "-c", "2", "-i", "0.2", "-W", "2", server.str()});
        const Received tcp = tcp_transfer(cb.ns, SockTarget{server, 5001}, ca.ns, SockTarget{server, 5001}, 1 << 20);
        EXPECT_EQ(tcp.bytes, 1u << 20);
        EXPECT_EQ(tcp.peer, client.str());
        const Received udp = udp_send(cb.ns, server, 5002, ca.ns, 50);
        EXPECT_EQ(udp.messages, 50u);
        EXPECT_EQ(udp.peer, client.str());
    }
    // The stack forwarded none of it but the few segments larger than the tunnel's MTU
    // (the containers' links are 1500 bytes), which it answered with "too big" (this
    // kernel counts those as forwarded datagrams too).
    for (std::size_t i : {0u, 1u})
        EXPECT_EQ(stack_forwarded(hosts[i]) - (i == 0 ? a_fwd : b_fwd), answered_too_big(hosts[i]) - (i == 0 ? a_big : b_big))
            << "host " << i << "'s stack forwarded container traffic";
    EXPECT_GT(stack_forwarded(rt), router_fwd + 100) << "the tunnel's packets went through the router";
}

// Scenario: a host's own stack reaches the other host's container through the tunnel
// (ping, 1 MiB over TCP; IPv4 and IPv6 inside), from its tunnel device's address (the
// lease's first address, Flannel's layout), and the answers come back the same way. The
// route goes via the peer's device address (a permanent neighbour entry: the peer's
// VtepMAC, which the FDB sends to the peer); all three go when the peer's lease does.
TEST_F(ClusterVxlanTest, TheHostsOwnTrafficReachesContainersBehindTheTunnel)
{
    const auto [ea, eb] = start_both();
    const Container cb = container(1, 5, eb);
    const std::string route = lab->in(hosts[0], {"ip", "route", "show", eb.subnet->str()});
    EXPECT_NE(route.find("via " + eb.subnet->network.str() + " dev flatpath.7"), std::string::npos) << route;
    const std::string fdb = lab->in(hosts[0], {"bridge", "fdb", "show", "dev", "flatpath.7"});
    EXPECT_NE(fdb.find("dst 192.168.82.2"), std::string::npos) << fdb;
    for (const auto &[source, server] : {std::pair{ea.subnet->network, cb.v4}, std::pair{ea.ipv6_subnet->network, cb.v6}}) {
        SCOPED_TRACE(server.str());
        EXPECT_NE(lab->in(hosts[0], {"ip", "addr", "show", "dev", "flatpath.7"}).find(source.str() + "/"), std::string::npos);
        lab->in(hosts[0], {"ping", "-c", "2", "-i", "0.2", "-W", "2", server.str()});
        const Received tcp = tcp_transfer(cb.ns, SockTarget{server, 5001}, hosts[0], SockTarget{server, 5001}, 1 << 20);
        EXPECT_EQ(tcp.bytes, 1u << 20);
        EXPECT_EQ(tcp.peer, source.str()) << "the host's traffic left from another address than its tunnel device's";
    }
    daemons[1]->stop(SIGKILL); // its lease (TTL 6 s) runs out
    const auto ours = [&](const char *what) {
        return lab->in(hosts[0], {"ip", "-4", what, "show", "dev", "flatpath.7"}) +
               lab->in(hosts[0], {"ip", "-6", what, "show", "dev", "flatpath.7"});
    };
    EXPECT_TRUE(eventually([&] { return ours("route").find("proto 241") == std::string::npos; }, 20)) << ours("route");
    EXPECT_EQ(ours("neigh").find("PERMANENT"), std::string::npos) << ours("neigh");
    const std::string fdb_after = lab->in(hosts[0], {"bridge", "fdb", "show", "dev", "flatpath.7"});
    EXPECT_EQ(fdb_after.find("dst 192.168.82.2"), std::string::npos) << fdb_after;
}

// Scenario: a client behind the router reaches port 8080 published on a, whose backend is
// b's container, through the tunnel (1 MiB over TCP, UDP): the container (its link at the
// tunnel's MTU, as flatpath-cni makes it from subnet.env) sees a's tunnel address as its
// client, the client gets its answers from a's published address, and a's stack forwarded
// none of it.
TEST_F(ClusterVxlanTest, APortPublishedOnOneHostReachesAContainerBehindTheTunnel)
{
    const auto [ea, eb] = start_both();
    const Container cb = container(1, 5, eb, ea.mtu);
    const std::string lan = lab->add_netns("lan");
    link(lan, 84, 2);
    for (const char *proto : {"tcp", "udp"})
        run_checked({"nsenter", "--net=/run/netns/" + hosts[0], FLATPATH_BIN, "--pin-root", pins[0], "dnat", "add", proto,
                     "8080", cb.v4.with_port("80")});
    const IpAddr published = IpAddr::parse("192.168.81.2");
    const std::uint64_t a_fwd = stack_forwarded(hosts[0]);
    const Received tcp = tcp_transfer(cb.ns, SockTarget{cb.v4, 80}, lan, SockTarget{published, 8080}, 1 << 20);
    EXPECT_EQ(tcp.bytes, 1u << 20);
    EXPECT_EQ(tcp.peer, ea.subnet->network.str()) << "the backend saw another client than a's tunnel address";
    const Received udp = udp_send(cb.ns, SockTarget{cb.v4, 80}, lan, SockTarget{published, 8080}, 20);
    EXPECT_EQ(udp.messages, 20u);
    EXPECT_EQ(udp.peer, ea.subnet->network.str());
    EXPECT_EQ(stack_forwarded(hosts[0]), a_fwd) << "a's stack forwarded the published port's traffic";
}

// Scenario: a tunnel device left by an older flatpath (collect-metadata, another source) is
// replaced by one of the cluster's settings; a restarted daemon keeps the device it made
// (its MAC, the host's VtepMAC in etcd, stays the same).
TEST_F(ClusterVxlanTest, ATunnelDeviceOfOtherSettingsIsReplacedAndARestartKeepsIt)
{
    lab->in(hosts[0], {"ip", "link", "add", "flatpath.7", "type", "vxlan", "external", "dstport", "8472"});
    start(0, "192.168.81.2");
    const auto details = [&] { return lab->in(hosts[0], {"ip", "-d", "link", "show", "flatpath.7"}); };
    const std::string made = details();
    EXPECT_NE(made.find("vxlan id 7 local 192.168.81.2"), std::string::npos) << made;
    EXPECT_EQ(made.find("external"), std::string::npos) << made;
    const auto mac = [&] { return Netlink("/run/netns/" + hosts[0]).link_mac("flatpath.7"); };
    const auto before = mac();
    ASSERT_TRUE(before);
    daemons[0]->stop(SIGTERM);
    start(0, "192.168.81.2");
    EXPECT_TRUE(eventually([&] { return daemons[0]->log().find("kept subnet") != std::string::npos; }, 15))
        << daemons[0]->log();
    EXPECT_EQ(mac(), before) << "the restarted daemon made its tunnel device again";
}

// Scenario: records whose VtepMAC no peer can have (zero: the device's default destination;
// broadcast: every flood's; this host's own) are not routed and leave no FDB entry, while a
// good record written beside them is.
TEST_F(ClusterVxlanTest, AVtepMacNoPeerCanHaveIsNotRouted)
{
    start(0, "192.168.81.2");
    const auto own = Netlink("/run/netns/" + hosts[0]).link_mac("flatpath.7");
    ASSERT_TRUE(own);
    const auto put = [&](int third, const std::string &mac) {
        NetnsScope in(store_ns);
        EtcdClient({etcd->url()}).put("/coreos.com/network/subnets/10.51." + std::to_string(third) + ".0-24",
                                      R"({"PublicIP":"192.168.99.)" + std::to_string(third) +
                                          R"(","BackendType":"vxlan","BackendData":{"VNI":7,"VtepMAC":")" + mac + R"("}})");
    };
    put(90, "00:00:00:00:00:00");
    put(91, "ff:ff:ff:ff:ff:ff");
    put(92, own->str());
    put(93, "02:93:00:00:00:01");
    EXPECT_TRUE(eventually([&] { return !lab->in(hosts[0], {"ip", "route", "show", "10.51.93.0/24"}).empty(); }, 15))
        << daemons[0]->log();
    for (int bad : {90, 91, 92})
        EXPECT_EQ(lab->in(hosts[0], {"ip", "route", "show", "10.51." + std::to_string(bad) + ".0/24"}), "") << bad;
    const std::string fdb = lab->in(hosts[0], {"bridge", "fdb", "show", "dev", "flatpath.7"});
    EXPECT_NE(fdb.find("02:93:00:00:00:01 dst 192.168.99.93"), std::string::npos) << fdb;
    for (const char *bad : {"192.168.99.90", "192.168.99.91", "192.168.99.92"})
        EXPECT_EQ(fdb.find(bad), std::string::npos) << fdb;
    EXPECT_NE(daemons[0]->log().find("no usable BackendData.VtepMAC"), std::string::npos) << daemons[0]->log();
}

} // namespace
} // namespace fp::test

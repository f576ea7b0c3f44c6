// The cluster on three hosts (cluster_fixture.hpp): each daemon leases a subnet of its
// own in etcd and routes to the others' (host-gw, flatpath's own routes); containers on
// different hosts reach each other with their own addresses through the fast path; a
// host that dies loses its subnet everywhere after the lease TTL; an etcd restart loses
// no route; what etcd holds that is wrong is skipped.
#include <signal.h>

#include "cluster_fixture.hpp"
#include "etcd_client.hpp"
#include "netns_scope.hpp"
#include "subnet_leaser.hpp"
#include "traffic.hpp"

namespace fp::test {
namespace {

class ClusterTest : public ClusterFixture {
protected:
    // Starts a, b and c and waits until each routes to the other two's subnets. narrow:
    // the cluster's config is written first, its hosts leasing from 10.50.1.0-10.50.99.0
    // only, so that the subnets a test writes itself (100 and up) are nobody's.
    void start_all(bool narrow = false)
    {
        if (narrow) {
            NetnsScope in(etcd_ns);
            store().put("/coreos.com/network/config", R"({"Network":"10.50.0.0/16","SubnetMax":"10.50.99.0","EnableIPv6":true,)"
                                                      R"("IPv6Network":"fd50::/56","Backend":{"Type":"host-gw"}})");
        }
        for (auto &[name, h] : hosts)
            envs[name] = start(h);
        for (auto &[name, h] : hosts)
            ASSERT_TRUE(eventually([&] { return routes(h) == expected_routes(name); }, 15))
                << "host " << name << " routes: " << joined(routes(h)) << "\n" << h.daemon->log();
    }
    std::set<std::string> expected_routes(const std::string &of) const
    {
        std::set<std::string> want;
        for (const auto &[name, h] : hosts)
            if (name != of && envs.contains(name)) {
                want.insert(route_to(envs.at(name), h));
                want.insert(route_to(envs.at(name), h, true));
            }
        return want;
    }
    static std::string joined(const std::set<std::string> &s)
    {
        std::string out;
        for (const auto &x : s)
            out += "[" + x + "] ";
        return out;
    }
    EtcdClient store() const { return EtcdClient({etcd->url()}); }

    std::map<std::string, SubnetEnv> envs;
};

// Scenario: three hosts get three distinct subnets of the cluster network, written to
// their subnet.env as Flannel writes it; each routes to the other two via their
// addresses; the layout in etcd is Flannel's (config, one key per subnet, PublicIP).
TEST_F(ClusterTest, EachHostLeasesItsOwnSubnetAndRoutesToTheOthers)
{
    start_all();
    std::set<IpPrefix> subnets;
    for (const auto &[name, env] : envs) {
        ASSERT_TRUE(env.subnet && env.ipv6_subnet);
        EXPECT_TRUE(IpPrefix::parse("10.50.0.0/16").contains(env.subnet->network));
        EXPECT_EQ(env.subnet->len, 24);
        EXPECT_EQ(env.network, IpPrefix::parse("10.50.0.0/16"));
        EXPECT_TRUE(env.ip_masq);
        subnets.insert(*env.subnet);
    }
    EXPECT_EQ(subnets.size(), 3u);
    NetnsScope in(etcd_ns);
    const auto config = store().get("/coreos.com/network/config");
    ASSERT_TRUE(config);
    EXPECT_NE(config->value.find("\"Network\":\"10.50.0.0/16\""), std::string::npos) << config->value;
    const auto b = store().get("/coreos.com/network/subnets/" + envs["b"].subnet->network.str() + "-24&" +
                               envs["b"].ipv6_subnet->network.str() + "-64");
    ASSERT_TRUE(b) << "b's key in Flannel's dual-stack form";
    EXPECT_NE(b->value.find("\"PublicIP\":\"192.168.77.2\""), std::string::npos) << b->value;
    EXPECT_NE(b->lease, 0) << "under an etcd lease";
}

// Scenario: an operator on host a sees the cluster: `cluster status` (connected, a's
// subnet, a live lease), `cluster hosts` (the three leases in etcd), `cluster routes` (the
// two networks and the four peer subnets, each with its route) and the metrics.
TEST_F(ClusterTest, TheOperatorSeesTheClusterFromHostA)
{
    start_all();
    ClusterHost &a = hosts["a"];
    const auto cli = [&](const std::vector<std::string> &args) {
        std::vector<std::string> argv = {"nsenter", "--net=/run/netns/" + a.ns, FLATPATH_BIN, "--pin-root", a.pin_root};
        argv.insert(argv.end(), args.begin(), args.end());
        argv.push_back("--json");
        return nlohmann::json::parse(run_checked(argv));
    };
    ASSERT_TRUE(eventually([&] { return cli({"cluster", "status", "--run-dir", a.daemon->run_dir()})["peers"] == 4; }, 10));
    const auto status = cli({"cluster", "status", "--run-dir", a.daemon->run_dir()});
    EXPECT_TRUE(status["connected"].get<bool>());
    EXPECT_EQ(status["subnet"], envs["a"].subnet->str());
    EXPECT_GT(status["lease_expires_unix"].get<std::int64_t>(), 0);
    const auto known = cli({"cluster", "hosts", "--etcd-endpoints", etcd->url()});
    ASSERT_EQ(known.size(), 3u) << known.dump();
    std::set<std::string> ips;
    for (const auto &h : known) {
        ips.insert(h["public_ip"]);
        EXPECT_GT(h["ttl"].get<int>(), 0);
    }
    EXPECT_EQ(ips, (std::set<std::string>{"192.168.77.1", "192.168.77.2", "192.168.77.3"}));
    const auto table = cli({"cluster", "routes"});
    int networks = 0, routed = 0;
    for (const auto &r : table) {
        networks += r.contains("cluster_network");
        routed += r.value("routed", false);
    }
    EXPECT_EQ(networks, 2) << table.dump();
    EXPECT_EQ(routed, 4) << table.dump();
    EXPECT_EQ(a.daemon->metric("flatpath_cluster_connected"), 1);
    EXPECT_EQ(a.daemon->metric("flatpath_cluster_peers"), 4);
    EXPECT_GT(a.daemon->metric("flatpath_cluster_lease_ttl_seconds"), 0);
}

// Scenario: each host records its endpoints of the cluster networks in etcd, under its
// lease (<prefix>/flatpath/endpoints/ADDR: the host and its subnet), within a second of
// their registration; a removed endpoint's record goes; `cluster hosts` counts them.
TEST_F(ClusterTest, EndpointRecordsFollowTheContainers)
{
    start_all();
    const Container ca = add_container(hosts["a"], 4);
    const std::string dir = "/coreos.com/network/flatpath/endpoints/";
    const auto records = [&] {
        NetnsScope in(etcd_ns);
        return store().get_prefix(dir).kvs;
    };
    ASSERT_TRUE(eventually([&] { return records().size() == 2; }, 5));
    for (const EtcdKeyValue &kv : records()) {
        EXPECT_TRUE(kv.key == dir + ca.v4.str() || kv.key == dir + ca.v6.str()) << kv.key;
        EXPECT_EQ(nlohmann::json::parse(kv.value)["Host"], "192.168.77.1") << kv.value;
        EXPECT_NE(kv.lease, 0);
    }
    const auto known = nlohmann::json::parse(run_checked({"nsenter", "--net=/run/netns/" + hosts["a"].ns, FLATPATH_BIN,
                                                          "cluster", "hosts", "--etcd-endpoints", etcd->url(), "--json"}));
    for (const auto &h : known)
        EXPECT_EQ(h["endpoints"], h["public_ip"] == "192.168.77.1" ? 2 : 0) << known.dump();
    run_checked({"nsenter", "--net=/run/netns/" + hosts["a"].ns, FLATPATH_BIN, "--pin-root", hosts["a"].pin_root,
                 "endpoint", "del", ca.v4.str()});
    EXPECT_TRUE(eventually([&] { return records().size() == 1; }, 5));
}

// Scenario: a container on a reaches the containers on b and c (TCP, UDP, ping, IPv4 and
// IPv6); each server sees the client's own address; a's and b's stacks forwarded none
// of it (the fast path carried it both ways), and b's endpoint counted it.
TEST_F(ClusterTest, ContainersOnDifferentHostsReachEachOtherWithTheirOwnAddresses)
{
    start_all();
    const Container ca = add_container(hosts["a"], 4);
    const Container cb = add_container(hosts["b"], 5);
    const Container cc = add_container(hosts["c"], 6);
    const std::uint64_t a_fwd = stack_forwarded(hosts["a"].ns), b_fwd = stack_forwarded(hosts["b"].ns);
    for (const Container *to : {&cb, &cc}) {
        for (const auto &[client, server] : {std::pair{ca.v4, to->v4}, std::pair{ca.v6, to->v6}}) {
            SCOPED_TRACE(client.str() + " -> " + server.str());
            const Received tcp = tcp_transfer(to->ns, SockTarget{server, 5001}, ca.ns, SockTarget{server, 5001}, 1 << 20);
            EXPECT_EQ(tcp.bytes, 1u << 20);
            EXPECT_EQ(tcp.peer, client.str());
            const Received udp = udp_send(to->ns, server, 5002, ca.ns, 50);
            EXPECT_EQ(udp.messages, 50u);
            EXPECT_EQ(udp.peer, client.str());
            lab->in(ca.ns, {"ping", "-c", "2", "-i", "0.2", "-W", "2", server.str()});
        }
    }
    EXPECT_EQ(stack_forwarded(hosts["a"].ns), a_fwd) << "a's stack forwarded container traffic";
    EXPECT_EQ(stack_forwarded(hosts["b"].ns), b_fwd) << "b's stack forwarded container traffic";
    const auto stats = hosts["b"].daemon->flatpath_json({"stats"});
    std::uint64_t to_cb = 0;
    for (const auto &e : stats["endpoints"])
        if (e["dev"] == cb.host_if)
            to_cb = e["to_bytes"].get<std::uint64_t>();
    EXPECT_GE(to_cb, 2u << 20) << "both transfers delivered by b's uplink program: " << stats.dump();
}

// Scenario: a LAN client (a namespace of its own on the shared link) reaches port 8080
// published on b, whose backend is the container on c (TCP and UDP, both families): the
// bytes arrive, the answers come back to the client from b's published address, and the
// container sees b's address as its client (the flow is translated both ways: the
// backend is elsewhere, docs/cluster.md). b's stack forwarded none of it; b lists the
// flow as dnat-remote.
TEST_F(ClusterTest, APortPublishedOnOneHostReachesAContainerOnAnother)
{
    start_all();
    const Container cc = add_container(hosts["c"], 6);
    const std::string lan = lab->add_netns("lan");
    wire(lan, "lan", 20, "192.168.77.20", "fd77::20");
    ClusterHost &b = hosts["b"];
    for (const auto &backend : {cc.v4.with_port("80"), cc.v6.with_port("80")})
        for (const char *proto : {"tcp", "udp"})
            run_checked({"nsenter", "--net=/run/netns/" + b.ns, FLATPATH_BIN, "--pin-root", b.pin_root, "dnat", "add",
                         proto, "8080", backend});
    const std::uint64_t b_fwd = stack_forwarded(b.ns);
    for (const auto &[published, backend] : {std::pair{b.ip, cc.v4}, std::pair{b.ip6, cc.v6}}) {
        SCOPED_TRACE(published.str() + " -> " + backend.str());
        const Received tcp = tcp_transfer(cc.ns, SockTarget{backend, 80}, lan, SockTarget{published, 8080}, 1 << 20);
        EXPECT_EQ(tcp.bytes, 1u << 20);
        EXPECT_EQ(tcp.peer, published.str()) << "the backend on c saw another client than b";
        const Received udp = udp_send(cc.ns, SockTarget{backend, 80}, lan, SockTarget{published, 8080}, 20);
        EXPECT_EQ(udp.messages, 20u);
        EXPECT_EQ(udp.peer, published.str());
    }
    EXPECT_EQ(stack_forwarded(b.ns), b_fwd) << "b's stack forwarded the published port's traffic";
    const auto flows = b.daemon->flatpath_json({"ct", "list"});
    std::size_t remote = 0;
    for (const auto &f : flows)
        remote += f["kind"] == "dnat-remote";
    EXPECT_GE(remote, 2u) << flows.dump();
}

// Scenario: c's daemon killed (-9, no goodbye): a and b keep c's routes while its lease
// lives, and drop them once the TTL has passed; c's own subnet.env stays, and a c
// restarted later takes its old subnet back.
TEST_F(ClusterTest, ADeadHostsSubnetGoesAfterItsLeaseTtl)
{
    start_all();
    const SubnetEnv old_c = envs["c"];
    hosts["c"].daemon->stop(SIGKILL);
    envs.erase("c");
    for (const char *name : {"a", "b"})
        EXPECT_TRUE(eventually([&] { return routes(hosts[name]) == expected_routes(name); }, kLeaseTtl + 10))
            << name << ": " << joined(routes(hosts[name]));
    envs["c"] = start(hosts["c"]);
    EXPECT_EQ(envs["c"].subnet, old_c.subnet) << "its previous subnet, free again, taken back";
    for (const char *name : {"a", "b"})
        EXPECT_TRUE(eventually([&] { return routes(hosts[name]) == expected_routes(name); }, 15));
}

// Scenario: etcd killed: every route stays; a Flannel host's lease written straight into
// etcd after its restart shows up as a route on every flatpath host (they reconnected and
// watch again); a malformed record and one outside the cluster network change nothing.
TEST_F(ClusterTest, AnEtcdRestartLosesNoRouteAndFlannelsLeasesBecomeRoutes)
{
    start_all(true);
    etcd->kill();
    std::this_thread::sleep_for(std::chrono::seconds(3));
    for (auto &[name, h] : hosts)
        EXPECT_EQ(routes(h), expected_routes(name)) << "host " << name << " lost routes while etcd was down";
    etcd->start();
    {
        NetnsScope in(etcd_ns);
        const EtcdClient s = store();
        s.put("/coreos.com/network/subnets/10.50.200.0-24",
              R"({"PublicIP":"192.168.77.9","PublicIPv6":null,"BackendType":"host-gw","BackendData":null})", s.grant(60));
        s.put("/coreos.com/network/subnets/10.50.201.0-24", R"({"PublicIP":)");
        s.put("/coreos.com/network/subnets/10.99.0.0-24", R"({"PublicIP":"192.168.77.8","BackendType":"host-gw"})");
    }
    for (auto &[name, h] : hosts) {
        std::set<std::string> want = expected_routes(name);
        want.insert("10.50.200.0/24 via 192.168.77.9");
        EXPECT_TRUE(eventually([&] { return routes(h) == want; }, 20)) << "host " << name << ": " << joined(routes(h));
    }
    for (const char *said : {"outside the cluster network", "10.50.201.0-24': not JSON"})
        EXPECT_TRUE(eventually([&] { return hosts["a"].daemon->log().find(said) != std::string::npos; }, 5))
            << said << ":\n" << hosts["a"].daemon->log();
}

// Scenario: records that would misroute are not routed: a subnet the host already routes
// itself (an operator's static route stays as it was), and a subnet naming this host's own
// address that is not its lease (routed via itself it would loop; the others route it).
TEST_F(ClusterTest, WhatWouldMisrouteIsLeftAlone)
{
    start_all(true);
    ClusterHost &a = hosts["a"];
    lab->in(a.ns, {"ip", "route", "add", "10.50.250.0/24", "via", "192.168.77.3", "proto", "static"});
    {
        NetnsScope in(etcd_ns);
        const EtcdClient s = store();
        s.put("/coreos.com/network/subnets/10.50.250.0-24", R"({"PublicIP":"192.168.77.2","BackendType":"host-gw"})");
        s.put("/coreos.com/network/subnets/10.50.251.0-24", R"({"PublicIP":"192.168.77.1","BackendType":"host-gw"})");
    }
    EXPECT_TRUE(eventually([&] { return routes(hosts["b"]).contains("10.50.251.0/24 via 192.168.77.1"); }, 10));
    EXPECT_TRUE(eventually([&] { return a.daemon->log().find("10.50.250.0/24 of host 192.168.77.2: the host has a route of its own") != std::string::npos; }, 10))
        << a.daemon->log();
    EXPECT_NE(a.daemon->log().find("subnet 10.50.251.0/24 names this host"), std::string::npos) << a.daemon->log();
    EXPECT_EQ(routes(a), expected_routes("a"));
    EXPECT_NE(lab->in(a.ns, {"ip", "route", "show", "10.50.250.0/24"}).find("via 192.168.77.3 dev eth0 proto static"), std::string::npos);
}

// Scenario: four hosts race for a cluster network of two subnets: two win, each a
// different subnet, and two are told that every subnet is leased; etcd holds two keys.
TEST_F(ClusterTest, HostsRacingForSubnetsNeverShareOne)
{
    NetnsScope in(etcd_ns);
    const ClusterConfig config = ClusterConfig::parse(
        R"({"Network":"10.60.0.0/16","SubnetMin":"10.60.1.0","SubnetMax":"10.60.2.0","Backend":{"Type":"host-gw"}})");
    std::vector<std::optional<HostLease>> won(4);
    std::vector<std::string> lost(4);
    std::vector<std::thread> racers;
    for (int i = 0; i < 4; ++i)
        racers.emplace_back([&, i] {
            NetnsScope there(etcd_ns);
            const EtcdClient s = store();
            LeaseRequest req;
            req.prefix = "/race";
            req.public_ip = IpAddr::parse("192.168.77." + std::to_string(100 + i));
            std::vector<std::string> skipped;
            try {
                won[i] = SubnetLeaser(s, config).acquire(req, skipped);
            } catch (const Error &e) {
                lost[i] = e.what();
            }
        });
    for (auto &t : racers)
        t.join();
    std::set<IpPrefix> subnets;
    int winners = 0;
    for (int i = 0; i < 4; ++i) {
        if (won[i]) {
            ++winners;
            subnets.insert(won[i]->record.subnet);
        } else {
            EXPECT_NE(lost[i].find("every subnet of the cluster network 10.60.0.0/16 is leased"), std::string::npos) << lost[i];
        }
    }
    EXPECT_EQ(winners, 2);
    EXPECT_EQ(subnets.size(), 2u);
    EXPECT_EQ(store().get_prefix("/race/subnets/").kvs.size(), 2u);
}

// Scenario: etcd is down when a's daemon starts: the daemon starts anyway (the local
// datapath is up and takes endpoints), says it retries, and leases a subnet once etcd
// is back.
TEST_F(ClusterTest, AnUnreachableEtcdAtStartDelaysOnlyTheLease)
{
    etcd->kill();
    ClusterHost &a = hosts["a"];
    a.daemon->start(member_flags(a));
    EXPECT_TRUE(a.daemon->flatpath_json({"status"})["up"]);
    EXPECT_TRUE(eventually([&] { return a.daemon->log().find("again in") != std::string::npos; }, 10)) << a.daemon->log();
    EXPECT_NE(a.daemon->log().find("192.168.77.10:2379"), std::string::npos) << "the error names the endpoint";
    EXPECT_FALSE(std::filesystem::exists(a.subnet_file()));
    etcd->start();
    EXPECT_TRUE(eventually([&] { return std::filesystem::exists(a.subnet_file()); }, 20)) << a.daemon->log();
}

// Scenario: nonsense cluster flags stop the daemon before it touches anything, each with
// one line naming the flag.
TEST_F(ClusterTest, BadClusterFlagsAreRefused)
{
    ClusterHost &a = hosts["a"];
    const std::vector<std::pair<std::vector<std::string>, std::string>> bad = {
        {{"--etcd-endpoints", "192.168.77.10:2379"}, "not an http:// or https:// URL"},
        {{"--etcd-endpoints", etcd->url(), "--cluster-network", "10.50.0.1/16"}, "--cluster-network: '10.50.0.1/16' has host bits set"},
        {{"--etcd-endpoints", etcd->url(), "--cluster-network", "fd50::/56"}, "must be IPv4"},
        {{"--etcd-endpoints", etcd->url(), "--public-ip", "fd77::1"}, "--public-ip fd77::1: must be IPv4"},
        {{"--etcd-endpoints", etcd->url(), "--lease-ttl", "1"}, "at least 5 seconds"},
        {{"--cluster-network", "10.50.0.0/16"}, "need --etcd-endpoints"},
    };
    for (const auto &[flags, said] : bad) {
        std::vector<std::string> argv = a.daemon->argv(flags);
        const CommandResult r = run_command(argv);
        EXPECT_NE(r.status, 0) << r.output;
        EXPECT_NE(r.output.find(said), std::string::npos) << r.output;
    }
    EXPECT_FALSE(std::filesystem::exists(a.pin_root)) << "nothing was set up";
}

} // namespace
} // namespace fp::test

// Three hosts of a cluster on one machine: namespaces a, b and c on one shared link (a
// bridge in namespace sw: 192.168.77.0/24, fd77::/64), a real etcd at 192.168.77.10 in a
// namespace of its own, and on each host `flatpath daemon` joining the cluster
// 10.50.0.0/16 + fd50::/56 (host-gw, lease TTL 6 s) with its own pin root, run directory
// and subnet.env. A host's container gets the fifth address of the host's subnet.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>

#include "command.hpp"
#include "daemon_fixture.hpp"
#include "etcd_server.hpp"
#include "eventually.hpp"
#include "ip_pool.hpp"
#include "lab.hpp"
#include "missing_tool.hpp"
#include "subnet_env.hpp"
#include "topology.hpp"

namespace fp::test {

inline constexpr int kLeaseTtl = 6;

struct ClusterHost {
    std::string name; // a, b, c
    std::string ns;
    IpAddr ip, ip6;
    std::string dir;      // its run directory, log and subnet.env
    std::string pin_root;
    std::unique_ptr<DaemonRunner> daemon;
    std::optional<Container> container;

    std::string subnet_file() const { return dir + "/subnet.env"; }
};

class ClusterFixture : public ::testing::Test {
protected:
    void SetUp() override
    {
        FP_REQUIRE_TOOL(std::filesystem::exists("/usr/bin/etcd"), "etcd-server");
        char tmpl[] = "/tmp/flatpath-cluster-test.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir = tmpl;
        lab = std::make_unique<Lab>("cl");
        sw = lab->add_netns("sw");
        lab->in(sw, {"ip", "link", "add", "br0", "type", "bridge"});
        lab->in(sw, {"ip", "link", "set", "br0", "up"});
        etcd_ns = lab->add_netns("store");
        wire(etcd_ns, "st", 10, "192.168.77.10", "fd77::10");
        etcd = std::make_unique<EtcdServer>(etcd_ns, "192.168.77.10", 2379, dir + "/etcd");
        int n = 1;
        for (const std::string name : {"a", "b", "c"}) {
            ClusterHost h;
            h.name = name;
            h.ns = lab->add_netns("h" + name);
            h.ip = IpAddr::parse("192.168.77." + std::to_string(n));
            h.ip6 = IpAddr::parse("fd77::" + std::to_string(n));
            wire(h.ns, "h" + name, n, h.ip.str(), h.ip6.str());
            // What flatpath-cni (or Podman) turns on when it adds a host's first container;
            // the fixture registers its containers with `flatpath endpoint add` instead.
            lab->in(h.ns, {"sysctl", "-qw", "net.ipv4.ip_forward=1"});
            lab->in(h.ns, {"sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"});
            h.dir = dir + "/" + name;
            std::filesystem::create_directories(h.dir);
            h.pin_root = std::filesystem::path(lab->pin_root()).parent_path() / ("host-" + name);
            h.daemon = std::make_unique<DaemonRunner>(h.ns, h.pin_root, h.dir);
            hosts[name] = std::move(h);
            ++n;
        }
    }
    void TearDown() override
    {
        for (auto &[name, h] : hosts)
            if (h.daemon && h.daemon->process)
                h.daemon->stop(SIGTERM);
        etcd.reset();
        lab.reset();
        if (!dir.empty())
            std::filesystem::remove_all(dir);
    }

    // ns's eth0 on the shared link, with these addresses.
    void wire(const std::string &ns, const std::string &port, int n, const std::string &ip, const std::string &ip6)
    {
        const std::string hex = (n < 10 ? "0" : "") + std::to_string(n); // n < 100: written as two digits
        lab->add_veth(ns, "eth0", MacAddr::parse("02:77:00:00:00:" + hex), sw, "p-" + port, MacAddr::parse("02:77:00:00:01:" + hex));
        lab->in(sw, {"ip", "link", "set", "p-" + port, "master", "br0"});
        lab->in(ns, {"ip", "addr", "add", ip + "/24", "dev", "eth0"});
        lab->in(ns, {"ip", "addr", "add", ip6 + "/64", "dev", "eth0", "nodad"});
    }

    std::vector<std::string> member_flags(const ClusterHost &h) const
    {
        return {"--runtime-api", h.dir + "/no-runtime.sock", "--uplink", "eth0", "--etcd-endpoints", etcd->url(),
                "--cluster-network", "10.50.0.0/16", "--cluster-network6", "fd50::/56", "--public-ip", h.ip.str(),
                "--public-ipv6", h.ip6.str(), "--lease-ttl", std::to_string(kLeaseTtl), "--subnet-file", h.subnet_file()};
    }
    // Starts host h's daemon and waits for its lease (its subnet.env).
    SubnetEnv start(ClusterHost &h)
    {
        h.daemon->start(member_flags(h));
        EXPECT_TRUE(eventually([&] { return std::filesystem::exists(h.subnet_file()); }, 20))
            << "no lease for host " << h.name << ":\n" << h.daemon->log();
        return SubnetEnv::read(h.subnet_file());
    }
    // A container on host h at the fifth address of its subnets, registered as an endpoint.
    const Container &add_container(ClusterHost &h, int n)
    {
        const SubnetEnv env = SubnetEnv::read(h.subnet_file());
        h.container = add_routed_container(*lab, h.ns, "c" + h.name, n, cni::addr_add(env.subnet->network, 5),
                                           cni::addr_add(env.ipv6_subnet->network, 5), {});
        run_checked({"nsenter", "--net=/run/netns/" + h.ns, FLATPATH_BIN, "--pin-root", h.pin_root, "endpoint", "add",
                     h.container->v4.str(), h.container->v6.str(), "--dev", h.container->host_if, "--mac",
                     h.container->mac.str()});
        return *h.container;
    }
    // The destinations of flatpath's cluster routes in host h ("10.50.3.0/24 via 192.168.77.2").
    std::set<std::string> routes(const ClusterHost &h) const
    {
        std::set<std::string> out;
        for (const char *family : {"-4", "-6"}) {
            const auto j = nlohmann::json::parse(lab->in(h.ns, {"ip", "-j", family, "route", "show", "proto", "241"}));
            for (const auto &r : j)
                out.insert(r.value("dst", std::string()) + " via " + r.value("gateway", std::string()));
        }
        return out;
    }
    static std::string route_to(const SubnetEnv &env, const ClusterHost &via, bool v6 = false)
    {
        return (v6 ? env.ipv6_subnet : env.subnet)->str() + " via " + (v6 ? via.ip6 : via.ip).str();
    }

    std::string dir, sw, etcd_ns;
    std::unique_ptr<Lab> lab;
    std::unique_ptr<EtcdServer> etcd;
    std::map<std::string, ClusterHost> hosts;
};

} // namespace fp::test

// What the gateway tests share: a gateway namespace of a Lab of their own, a routed side (a
// router namespace on one of the gateway's uplinks and a client namespace behind it),
// `flatpath` run in the gateway, and an interface's transmit counter.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "command.hpp"
#include "lab.hpp"

namespace fp::test {

class GatewayFixture : public ::testing::Test {
protected:
    void make_gateway(const std::string &tag)
    {
        lab = std::make_unique<Lab>(tag);
        gw = lab->add_netns("gw");
        lab->in(gw, {"sysctl", "-qw", "net.ipv4.ip_forward=1"});
    }

    // Router namespace `name` on the gateway's `uplink` (link_net.1 there, link_net.2 on the
    // router) and a client behind it at client_addr in lan_net.0/24, routed through
    // lan_net.1; returns the client's namespace. index (1, 2) tells the sides' MACs apart.
    std::string add_side(const std::string &name, const std::string &uplink, const std::string &link_net,
                         const std::string &lan_net, const std::string &client_addr, int index)
    {
        const std::string router = lab->add_netns(name);
        const std::string client = lab->add_netns(name + "lan");
        const auto mac = [](int pair, int end) {
            return MacAddr::parse("02:fc:00:00:0" + std::to_string(pair) + ":0" + std::to_string(end));
        };
        lab->add_veth(gw, uplink, mac(index, 1), router, "wan", mac(index, 2));
        lab->add_veth(router, "lan", mac(index + 2, 1), client, "eth0", mac(index + 2, 2));
        lab->in(gw, {"ip", "addr", "add", link_net + ".1/24", "dev", uplink});
        lab->in(router, {"ip", "addr", "add", link_net + ".2/24", "dev", "wan"});
        lab->in(router, {"ip", "addr", "add", lan_net + ".1/24", "dev", "lan"});
        lab->in(router, {"sysctl", "-qw", "net.ipv4.ip_forward=1"});
        lab->in(client, {"ip", "addr", "add", client_addr + "/24", "dev", "eth0"});
        lab->in(client, {"ip", "route", "add", "default", "via", lan_net + ".1"});
        return client;
    }

    std::string flatpath(const std::vector<std::string> &args)
    {
        std::vector<std::string> argv = {"ip", "netns", "exec", gw, FLATPATH_BIN, "--pin-root", lab->pin_root()};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_checked(argv);
    }

    std::uint64_t tx_packets(const std::string &dev)
    {
        const auto j = nlohmann::json::parse(lab->in(gw, {"ip", "-s", "-j", "link", "show", dev}));
        return j[0]["stats64"]["tx"]["packets"].get<std::uint64_t>();
    }

    std::unique_ptr<Lab> lab;
    std::string gw;
};

} // namespace fp::test

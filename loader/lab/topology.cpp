#include "topology.hpp"

#include "command.hpp"

namespace fp {

namespace {
// Containers reach the host through this gateway: never assigned anywhere, only a
// permanent neighbour entry pointing at the host veth (routed mode).
constexpr const char *kGateway4 = "169.254.1.1";
constexpr const char *kGateway6 = "fe80::1";
} // namespace

Topology::Topology(Lab &lab, std::function<void(const std::string &)> say) : lab_(lab), say_(std::move(say))
{
    const auto step = [&](const std::string &s) {
        if (say_)
            say_(s);
    };
    step("namespaces: a LAN client, a host, two containers");
    lan_ns_ = lab_.add_netns("lan");
    host_ns_ = lab_.add_netns("host");

    step("LAN link: lan0 (10.90.0.2, fd90::2) <-> host uplink0 (10.90.0.1, fd90::1)");
    lab_.add_veth(lan_ns_, "lan0", MacAddr::parse("02:fb:00:00:00:02"), host_ns_, uplink_,
                  MacAddr::parse("02:fb:00:00:00:01"));
    lab_.in(lan_ns_, {"ip", "addr", "add", "10.90.0.2/24", "dev", "lan0"});
    lab_.in(lan_ns_, {"ip", "addr", "add", "fd90::2/64", "dev", "lan0", "nodad"});
    lab_.in(host_ns_, {"ip", "addr", "add", "10.90.0.1/24", "dev", uplink_});
    lab_.in(host_ns_, {"ip", "addr", "add", "fd90::1/64", "dev", uplink_, "nodad"});
    lab_.in(lan_ns_, {"ip", "route", "add", "10.91.0.0/24", "via", "10.90.0.1"});
    lab_.in(lan_ns_, {"ip", "-6", "route", "add", "fd91::/64", "via", "fd90::1"});
    lab_.in(host_ns_, {"sysctl", "-qw", "net.ipv4.ip_forward=1"});
    lab_.in(host_ns_, {"sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"});

    for (int n : {1, 2})
        containers_.push_back(add_routed_container(lab_, host_ns_, "c" + std::to_string(n), n, say_));
}

Container add_routed_container(Lab &lab, const std::string &host_ns, const std::string &name, int n,
                               const std::function<void(const std::string &)> &say)
{
    const std::string id = std::to_string(10 + n);
    return add_routed_container(lab, host_ns, name, n, IpAddr::parse("10.91.0." + id), IpAddr::parse("fd91::" + id), say);
}

Container add_routed_container(Lab &lab, const std::string &host_ns, const std::string &name, int n, const IpAddr &v4,
                               const IpAddr &v6, const std::function<void(const std::string &)> &say)
{
    Container c{name,
                lab.add_netns(name),
                "fp" + name,
                MacAddr::parse("02:fb:00:00:0" + std::to_string(n) + ":02"),
                MacAddr::parse("02:fb:00:00:0" + std::to_string(n) + ":01"),
                v4,
                v6};
    if (say)
        say("container " + name + ": eth0 " + c.v4.str() + ", " + c.v6.str() + " <-> host " + c.host_if);
    lab.add_veth(c.ns, "eth0", c.mac, host_ns, c.host_if, c.host_mac);
    lab.in(c.ns, {"ip", "addr", "add", c.v4.str() + "/32", "dev", "eth0"});
    lab.in(c.ns, {"ip", "addr", "add", c.v6.str() + "/128", "dev", "eth0", "nodad"});
    lab.in(c.ns, {"ip", "route", "add", kGateway4, "dev", "eth0", "scope", "link"});
    lab.in(c.ns, {"ip", "route", "add", "default", "via", kGateway4, "dev", "eth0"});
    lab.in(c.ns, {"ip", "neigh", "add", kGateway4, "lladdr", c.host_mac.str(), "dev", "eth0", "nud", "permanent"});
    lab.in(c.ns, {"ip", "-6", "route", "add", "default", "via", kGateway6, "dev", "eth0"});
    lab.in(c.ns, {"ip", "-6", "neigh", "add", kGateway6, "lladdr", c.host_mac.str(), "dev", "eth0", "nud",
                   "permanent"});
    // A veth receiving XDP-redirected frames needs GRO (or an XDP program) on its peer.
    lab.in(c.ns, {"ethtool", "-K", "eth0", "gro", "on"});
    lab.in(host_ns, {"ip", "route", "add", c.v4.str() + "/32", "dev", c.host_if});
    lab.in(host_ns, {"ip", "neigh", "add", c.v4.str(), "lladdr", c.mac.str(), "dev", c.host_if, "nud", "permanent"});
    lab.in(host_ns, {"ip", "-6", "route", "add", c.v6.str() + "/128", "dev", c.host_if});
    lab.in(host_ns, {"ip", "-6", "neigh", "add", c.v6.str(), "lladdr", c.mac.str(), "dev", c.host_if, "nud",
                       "permanent"});
    return c;
}

std::vector<std::string> Topology::flatpath_argv(const std::string &flatpath_bin,
                                                 const std::vector<std::string> &args) const
{
    std::vector<std::string> argv = {"ip", "netns", "exec", host_ns_, flatpath_bin, "--pin-root", lab_.pin_root()};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

std::string Topology::flatpath(const std::string &flatpath_bin, const std::vector<std::string> &args) const
{
    return run_checked(flatpath_argv(flatpath_bin, args));
}

void Topology::start_datapath(const std::string &flatpath_bin, const std::string &xdp_mode) const
{
    flatpath(flatpath_bin, {"up", "--uplink", uplink_, "--xdp-mode", xdp_mode});
    for (const Container &c : containers_)
        flatpath(flatpath_bin, {"endpoint", "add", c.v4.str(), c.v6.str(), "--dev", c.host_if, "--mac", c.mac.str()});
}

} // namespace fp

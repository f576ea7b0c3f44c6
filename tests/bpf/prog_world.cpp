#include "prog_world.hpp"

#include <bpf/bpf.h>
#include <sched.h>

#include "command.hpp"
#include "endpoint_prefixes.hpp"
#include "error.hpp"
#include "netdev.hpp"
#include "test_world.hpp"

namespace fp::test {

ProgDevices enter_prog_world()
{
    if (::unshare(CLONE_NEWNET) != 0)
        throw_errno("unshare(CLONE_NEWNET) (the BPF programs' world needs root)", errno);
    run_checked({"ip", "link", "set", "lo", "up"});
    ProgDevices d;
    d.h1 = make_veth("h1", kH1, "p1", kC1);
    d.h2 = make_veth("h2", kH2, "p2", kC2);
    d.up0 = make_veth("up0", kUp0, "lan0", kLan);
    add_lan(d.up0);
    run_checked({"ip", "tuntap", "add", "tun0", "mode", "tun"});
    d.tun0 = Dev{"tun0", NetDev::by_name("tun0").ifindex, {}, {}};
    return d;
}

void add_lan(const Dev &up0)
{
    run_checked({"ip", "addr", "add", "10.99.0.1/24", "dev", up0.name});
    run_checked({"ip", "addr", "add", "fd99::1/64", "dev", up0.name, "nodad"});
    run_checked({"ip", "neigh", "add", "10.99.0.5", "lladdr", kLan.str(), "dev", up0.name, "nud", "permanent"});
    run_checked({"ip", "neigh", "add", "fd99::5", "lladdr", kLan.str(), "dev", up0.name, "nud", "permanent"});
    run_checked({"sysctl", "-qw", "net.ipv4.ip_forward=1"});
    run_checked({"sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"});
}

ScopedMtu::ScopedMtu(std::string dev, unsigned mtu) : dev_(std::move(dev))
{
    run_checked({"ip", "link", "set", dev_, "mtu", std::to_string(mtu)});
}

ScopedMtu::~ScopedMtu()
{
    run_command({"ip", "link", "set", dev_, "mtu", "1500"});
}

ScopedRoute::ScopedRoute(std::string prefix, const std::string &via) : prefix_(std::move(prefix))
{
    run_checked({"ip", "route", "add", prefix_, "via", via});
}

ScopedRoute::~ScopedRoute()
{
    run_command({"ip", "route", "del", prefix_});
}

Dev make_veth(const std::string &name, const MacAddr &mac, const std::string &peer, const MacAddr &peer_mac)
{
    run_checked({"ip", "link", "add", name, "address", mac.str(), "type", "veth", "peer", "name", peer, "address",
                 peer_mac.str()});
    run_checked({"ip", "link", "set", name, "up"});
    run_checked({"ip", "link", "set", peer, "up"});
    return Dev{name, NetDev::by_name(name).ifindex, mac, peer_mac};
}

void register_endpoint(MapSet &maps, const Dev &dev, std::uint32_t slot, fp_ep_kind kind,
                       const std::vector<IpAddr> &addrs)
{
    fp_iface rec{};
    rec.role = FP_ROLE_ENDPOINT;
    rec.slot = slot;
    rec.kind = static_cast<__u8>(kind);
    rec.nr_addrs = static_cast<__u32>(addrs.size());
    dev.peer_mac.copy_to(rec.mac);
    if (kind != FP_EP_TUN)
        maps.tx_devs.upsert(dev.ifindex, dev.ifindex);
    maps.ifaces.upsert(iface_key(dev.ifindex), rec);
    fp_endpoint ep{};
    ep.ifindex = dev.ifindex;
    ep.slot = slot;
    ep.kind = static_cast<__u8>(kind);
    dev.peer_mac.copy_to(ep.mac);
    dev.mac.copy_to(ep.host_mac);
    for (const IpAddr &a : addrs) {
        mark_endpoint_prefix(maps, a);
        maps.endpoints.upsert(endpoint_key(a), ep);
    }
}

void register_uplink(MapSet &maps, const Dev &dev)
{
    fp_iface rec{};
    rec.role = FP_ROLE_UPLINK;
    dev.mac.copy_to(rec.mac);
    maps.ifaces.upsert(iface_key(dev.ifindex), rec);
}

} // namespace fp::test

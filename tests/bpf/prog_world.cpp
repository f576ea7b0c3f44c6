#include "prog_world.hpp"

#include "command.hpp"
#include "netdev.hpp"

namespace fp::test {

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
    for (const IpAddr &a : addrs)
        maps.endpoints.upsert(endpoint_key(a), ep);
}

void register_uplink(MapSet &maps, const Dev &dev)
{
    fp_iface rec{};
    rec.role = FP_ROLE_UPLINK;
    dev.mac.copy_to(rec.mac);
    maps.ifaces.upsert(iface_key(dev.ifindex), rec);
}

} // namespace fp::test

#include "endpoints.hpp"

#include <algorithm>
#include <set>

#include "config_counts.hpp"
#include "conntrack.hpp"
#include "counters.hpp"
#include "datapath_lock.hpp"
#include "endpoint_prefixes.hpp"
#include "error.hpp"
#include "interfaces.hpp"
#include "local_addrs.hpp"
#include "netdev.hpp"
#include "policy.hpp"
#include "rollback.hpp"
#include "slots.hpp"

namespace fp {

std::string_view endpoint_kind_name(fp_ep_kind kind)
{
    switch (kind) {
    case FP_EP_VETH: return "veth";
    case FP_EP_TAP: return "tap";
    case FP_EP_TUN: return "tun";
    case FP_EP_REMOTE: return "remote";
    }
    return "?";
}

namespace {

std::vector<std::uint32_t> used_slots(const MapSet &maps)
{
    std::vector<std::uint32_t> used;
    for (const auto &[key, rec] : maps.ifaces.entries())
        if (rec.role == FP_ROLE_ENDPOINT)
            used.push_back(rec.slot);
    return used;
}

void check_spec(const EndpointSpec &spec, const NetDev &dev, fp_ep_kind kind)
{
    if (spec.addrs.empty())
        throw Error("an endpoint needs at least one address");
    if (std::set<IpAddr>(spec.addrs.begin(), spec.addrs.end()).size() != spec.addrs.size())
        throw Error("an address is given twice");
    const std::vector<IpAddr> host = host_addresses();
    for (const IpAddr &a : spec.addrs) {
        if (const std::string_view use = a.special_use(); !use.empty())
            throw Error(a.str() + " is a " + std::string(use) + " address: an endpoint needs a unicast address");
        // The host would stop answering it, and traffic to it would go to the container.
        if (std::find(host.begin(), host.end(), a) != host.end())
            throw Error(a.str() + " is an address of this host: it cannot be an endpoint's");
    }
    require_min_mtu(dev, "an endpoint device");
    if (kind == FP_EP_TUN && spec.mac)
        throw Error(dev.name + " is a tun device (no Ethernet header): --mac does not apply");
    if (kind != FP_EP_TUN) {
        if (!spec.mac)
            throw Error(dev.name + " is a " + std::string(endpoint_kind_name(kind)) +
                        " device: --mac (the container's MAC) is required");
        if (spec.mac->is_zero() || spec.mac->is_multicast())
            throw Error(spec.mac->str() + " is not a unicast MAC address");
    }
}

} // namespace

void Endpoints::add(const EndpointSpec &spec)
{
    const NetDev dev = NetDev::by_name(spec.dev);
    const fp_ep_kind kind = dev.endpoint_kind();
    check_spec(spec, dev, kind);
    const MacAddr mac = spec.mac.value_or(MacAddr{});

    DatapathLock lock(root_);
    for (const IpAddr &a : spec.addrs) {
        if (const auto ep = maps_.endpoints.lookup(endpoint_key(a))) {
            const auto owner = NetDev::by_index(ep->ifindex);
            throw Error("endpoint " + a.str() + " already exists (on " + (owner ? owner->name : "a removed device") + ")");
        }
    }
    auto rec = maps_.ifaces.lookup(iface_key(dev.ifindex));
    if (rec && rec->role != FP_ROLE_ENDPOINT)
        throw Error(dev.name + " is attached as an uplink; it cannot also be an endpoint");
    if (rec && MacAddr::from(rec->mac) != mac)
        throw Error(dev.name + " already belongs to an endpoint with MAC " + MacAddr::from(rec->mac).str());

    Rollback undo;
    // Undone last: a flow that resolved its route while the endpoint was half there
    // resolves it again.
    undo.push("generation", [&] { advance_generation(maps_); });
    if (!rec) {
        fp_iface fresh{};
        fresh.role = FP_ROLE_ENDPOINT;
        fresh.slot = lowest_free_slot(used_slots(maps_), FP_MAX_SLOTS);
        fresh.kind = static_cast<__u8>(kind);
        mac.copy_to(fresh.mac);
        maps_.ep_stats.clear(fresh.slot);
        // Devmap first: xdp_uplink must never find an endpoint whose device it cannot reach.
        if (kind != FP_EP_TUN) {
            maps_.tx_devs.upsert(dev.ifindex, dev.ifindex);
            undo.push("devmap entry", [&, ifindex = dev.ifindex] { maps_.tx_devs.erase(ifindex); });
        }
        maps_.ifaces.upsert(iface_key(dev.ifindex), fresh);
        undo.push("interface record", [&, ifindex = dev.ifindex] { maps_.ifaces.erase(iface_key(ifindex)); });
        Interfaces(root_, maps_).attach_endpoint(dev);
        undo.push("tc attachment", [&, ifindex = dev.ifindex, name = dev.name] {
            Interfaces(root_, maps_).detach(ifindex, name);
        });
        rec = maps_.ifaces.lookup(iface_key(dev.ifindex));
    }

    fp_endpoint ep{};
    ep.ifindex = dev.ifindex;
    ep.slot = rec->slot;
    ep.kind = static_cast<__u8>(kind);
    ep.zone = spec.zone;
    mac.copy_to(ep.mac);
    dev.mac.copy_to(ep.host_mac);
    for (const IpAddr &a : spec.addrs) {
        mark_endpoint_prefix(maps_, a);
        if (!maps_.endpoints.insert(endpoint_key(a), ep))
            throw Error("endpoint " + a.str() + " was added meanwhile");
        undo.push("endpoint " + a.str(), [&, key = endpoint_key(a)] { maps_.endpoints.erase(key); });
    }
    rec->nr_addrs += static_cast<__u32>(spec.addrs.size());
    maps_.ifaces.upsert(iface_key(dev.ifindex), *rec);
    advance_generation(maps_);
    undo.commit();
}

void Endpoints::remove_all(const std::vector<IpAddr> &addrs)
{
    if (std::set<IpAddr>(addrs.begin(), addrs.end()).size() != addrs.size())
        throw Error("an address is given twice");
    DatapathLock lock(root_);
    for (const IpAddr &a : addrs)
        if (!maps_.endpoints.lookup(endpoint_key(a)))
            throw Error("no endpoint " + a.str() + " (nothing was removed)");
    for (const IpAddr &a : addrs)
        remove_locked(a);
}

void Endpoints::remove(const IpAddr &addr)
{
    DatapathLock lock(root_);
    remove_locked(addr);
}

void Endpoints::remove_locked(const IpAddr &addr)
{
    // Taken in one step: a flow the datapath made up to then has set the flag we read.
    const auto ep = maps_.endpoints.take(endpoint_key(addr));
    if (!ep)
        throw Error("no endpoint " + addr.str());
    advance_generation(maps_);
    // No flow may keep pointing at (or coming from) an endpoint that is gone. Purging reads
    // the whole conntrack table (a second at a million flows): only when there can be any.
    if (ep->flags & FP_EP_HAD_FLOWS)
        Conntrack(maps_).purge([&](const fp_ct_key &key, const fp_ct_entry &orig) {
            return IpAddr::from_raw(orig.daddr) == addr || IpAddr::from_raw(key.saddr) == addr;
        });

    auto rec = maps_.ifaces.lookup(iface_key(ep->ifindex));
    if (!rec)
        return;
    if (rec->nr_addrs > 1) {
        rec->nr_addrs--;
        maps_.ifaces.upsert(iface_key(ep->ifindex), *rec);
        return;
    }
    // The device's last address: take the device out of the datapath altogether, its
    // policy with it.
    erase_policy(maps_, ep->ifindex);
    if (rec->attached & FP_ATTACHED_TC_INGRESS)
        Interfaces(root_, maps_).detach(ep->ifindex, "ifindex " + std::to_string(ep->ifindex));
    maps_.ifaces.erase(iface_key(ep->ifindex));
    maps_.tx_devs.erase(ep->ifindex);
}

std::vector<EndpointRow> Endpoints::list() const
{
    std::vector<EndpointRow> rows;
    for (const auto &[key, ep] : maps_.endpoints.entries()) {
        const auto dev = NetDev::by_index(ep.ifindex);
        rows.push_back(EndpointRow{IpAddr::from_raw(key.addr), ep.ifindex, dev ? dev->name : "",
                                   MacAddr::from(ep.mac), MacAddr::from(ep.host_mac),
                                   static_cast<fp_ep_kind>(ep.kind), ep.slot, ep.zone,
                                   sum_per_cpu(maps_.ep_stats.per_cpu(ep.slot))});
    }
    std::sort(rows.begin(), rows.end(), [](const EndpointRow &a, const EndpointRow &b) { return a.addr < b.addr; });
    return rows;
}

} // namespace fp

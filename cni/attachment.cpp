#include "attachment.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include <linux/rtnetlink.h>

#include "cni_error.hpp"
#include "delegate.hpp"
#include "datapath.hpp"
#include "dnat_table.hpp"
#include "endpoints.hpp"
#include "ipam_store.hpp"
#include "masq_rules.hpp"
#include "map_set.hpp"
#include "netdev.hpp"
#include "netlink.hpp"
#include "pin_root.hpp"
#include "policy.hpp"
#include "attachment_record.hpp"
#include "rollback.hpp"
#include "stale_endpoints.hpp"
#include "sysctl.hpp"

namespace fp::cni {

namespace {

// The container's gateway in routed mode: never assigned to anything, only a permanent
// neighbour entry that points at the host end of the veth.
const IpAddr kGateway4 = IpAddr::parse("169.254.1.1");
const IpAddr kGateway6 = IpAddr::parse("fe80::1");

void maybe_fail(const char *step)
{
    const char *at = std::getenv(kFailAfterEnv);
    if (at && std::string(at) == step)
        throw CniError(ErrorCode::IoFailure, std::string("injected failure after step ") + step);
}

// The addresses in a CNI result's "ips" ("10.88.0.5/16" -> 10.88.0.5).
std::vector<IpAddr> result_addresses(const nlohmann::json &result)
{
    std::vector<IpAddr> out;
    for (const auto &ip : result.value("ips", nlohmann::json::array())) {
        const std::string a = ip.value("address", "");
        try {
            out.push_back(IpAddr::parse(a.substr(0, a.find('/'))));
        } catch (const std::exception &) {
            throw CniError(ErrorCode::DecodeFailure, "a result address '" + a + "' is not an address");
        }
    }
    return out;
}

// Stale endpoints (their device gone without a DEL) are reclaimed before an ADD: those at
// its addresses and behind the ports it publishes every time, all of them at most once a
// minute per state directory, since that takes a dump of the host's interfaces, whose cost
// grows with the containers (~10 ms at a thousand).
void reclaim_stale(const PinRoot &root, MapSet &maps, const NetConfig &cfg, const std::vector<IpAddr> &addrs)
{
    constexpr auto kWholeTableEvery = std::chrono::minutes(1);
    const std::string stamp = cfg.state_dir + "/last-stale-check";
    std::error_code ec;
    const auto last = std::filesystem::last_write_time(stamp, ec);
    if (ec || std::filesystem::file_time_type::clock::now() - last > kWholeTableEvery) {
        reclaim_stale_endpoints(root, maps);
        std::ofstream{stamp}; // its time is the check's
        return;
    }
    std::vector<IpAddr> suspects = addrs;
    for (const DnatRule &r : DnatTable(root, maps).list())
        for (const PortMapping &pm : cfg.port_mappings)
            if (r.proto == pm.proto && r.ports.first <= pm.host_port && pm.host_port <= r.ports.last)
                suspects.push_back(r.backend);
    reclaim_stale_endpoints_at(root, maps, suspects);
}

// What ipMasq masquerades for these addresses: the network's subnets, or with a delegated
// IPAM (whose subnets the plugin does not know) each address alone.
std::vector<IpPrefix> masq_subnets(const NetConfig &cfg, const std::vector<IpAddr> &addrs)
{
    std::vector<IpPrefix> out;
    if (cfg.delegated_ipam()) {
        for (const IpAddr &a : addrs)
            out.push_back(IpPrefix::of(a, a.is_v4() ? 32 : 128));
        return out;
    }
    for (const IpPool &p : cfg.pools)
        out.push_back(IpPrefix::of(p.network(), p.prefix_len()));
    return out;
}

// How the container sees one of its addresses: its prefix length and its gateway. Routed
// mode: a host route and the link-local gateway; bridge mode: the subnet and the bridge.
struct AddressPlan {
    int prefix_len;
    IpAddr gateway;
    std::optional<IpAddr> subnet; // bridge mode: the subnet's network address
};

AddressPlan plan_for(const NetConfig &cfg, const IpAddr &a)
{
    if (cfg.bridge_mode)
        for (const IpPool &p : cfg.pools)
            if (p.contains(a))
                return {p.prefix_len(), *p.gateway(), p.network()};
    return {a.is_v4() ? 32 : 128, a.is_v4() ? kGateway4 : kGateway6, std::nullopt};
}

// A container on several networks (docs/cni.md, "Several networks"): each interface's
// routes in the main table get a metric of their own, so that a second network's ADD
// never meets the first one's routes ("Object exists"), and its default route stays
// when another interface goes; a metric-0 default route someone else installs (the CNI
// bridge plugin's) is preferred for connections that pick no source. Replies must leave
// by the interface of their address, or the reverse translation of the network they
// came in on never sees them: each interface also gets a routing table of its own,
// chosen by a rule on its addresses.
constexpr std::uint32_t kMetricBase = 100;
constexpr std::uint32_t kTableBase = 0x66700000; // "fp": tables kTableBase + container ifindex
constexpr std::uint32_t kSourceRulePriority = 100;

// DEL may come after the container's namespace is gone (then so is everything in it).
bool namespace_lives(const Request &req)
{
    return !req.netns.empty() && std::filesystem::exists(req.netns);
}

nlohmann::json result(const Request &req, const NetConfig &cfg, const std::string &host_if, const MacAddr &host_mac,
                      const MacAddr &mac, const std::vector<IpAddr> &addrs, const std::optional<MacAddr> &bridge_mac)
{
    const bool legacy = req.cni_version.starts_with("0."); // 0.3.x and 0.4.0 name the IP version
    nlohmann::json ifaces = nlohmann::json::array();
    if (bridge_mac)
        ifaces.push_back({{"name", cfg.bridge}, {"mac", bridge_mac->str()}});
    ifaces.push_back({{"name", host_if}, {"mac", host_mac.str()}});
    ifaces.push_back({{"name", req.ifname}, {"mac", mac.str()}, {"sandbox", req.netns}});
    nlohmann::json r{{"cniVersion", req.cni_version},
                     {"interfaces", ifaces},
                     {"ips", nlohmann::json::array()},
                     {"routes", nlohmann::json::array()}};
    for (const IpAddr &a : addrs) {
        const AddressPlan plan = plan_for(cfg, a);
        nlohmann::json ip{{"address", a.str() + "/" + std::to_string(plan.prefix_len)},
                          {"gateway", plan.gateway.str()},
                          {"interface", ifaces.size() - 1}};
        if (legacy)
            ip["version"] = a.is_v4() ? "4" : "6";
        r["ips"].push_back(ip);
        r["routes"].push_back({{"dst", a.is_v4() ? "0.0.0.0/0" : "::/0"}, {"gw", plan.gateway.str()}});
    }
    if (!cfg.dns.is_null())
        r["dns"] = cfg.dns;
    return r;
}

// The container's namespace over netlink: one that cannot be opened is the runtime's
// mistake (CNI_NETNS), the spec's "invalid environment".
Netlink container_netlink(const std::string &netns)
{
    try {
        return Netlink(netns);
    } catch (const Error &e) {
        throw CniError(ErrorCode::InvalidEnvironment, e.what());
    }
}

} // namespace

std::string host_veth_name(const std::string &container_id, const std::string &ifname)
{
    std::uint64_t h = 1469598103934665603ULL; // FNV-1a: short, stable, no library needed
    for (const char c : container_id + "/" + ifname) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ULL;
    }
    char buf[16];
    std::snprintf(buf, sizeof buf, "fp%011llx", static_cast<unsigned long long>(h & 0xfffffffffffULL));
    return buf;
}

// A LAN network's addresses must be of the uplink's own subnet (else nobody on the LAN
// would ask for them) and never the host's own.
void check_lan(const Netlink &host, const NetConfig &cfg)
{
    const auto uplink = host.link(cfg.lan_uplink);
    if (!uplink)
        throw CniError(ErrorCode::InvalidConfig, "\"lanUplink\" " + cfg.lan_uplink + " is no interface of the host");
    const std::vector<IpAddr> own = host.addresses(uplink->ifindex);
    for (const IpPool &p : cfg.pools) {
        const IpPrefix subnet = IpPrefix::of(p.network(), p.prefix_len());
        if (std::none_of(own.begin(), own.end(), [&](const IpAddr &a) { return subnet.contains(a); }))
            throw CniError(ErrorCode::InvalidConfig, "\"lanUplink\" " + cfg.lan_uplink + " has no address in " +
                                                         subnet.str() + ": the range must be part of its LAN's subnet");
        for (const IpAddr &a : own)
            if (p.usable(a))
                throw CniError(ErrorCode::InvalidConfig, "the range of " + subnet.str() + " holds " + cfg.lan_uplink +
                                                             "'s own address " + a.str() + ": narrow it (rangeStart, rangeEnd)");
    }
}

// The host answers for the container's addresses on the LAN uplink: a proxy neighbour
// entry each (IPv6 needs the uplink's proxy_ndp, which then stays on, as forwarding does).
void answer_on_lan(Netlink &host, const NetConfig &cfg, const std::vector<IpAddr> &addrs, Rollback &undo)
{
    for (const IpAddr &a : addrs) {
        if (!a.is_v4()) {
            const std::string knob = "net.ipv6.conf." + cfg.lan_uplink + ".proxy_ndp";
            if (sysctl_read(knob) == "0") {
                sysctl_write(knob, "1");
                undo.push(knob, [knob] { sysctl_write(knob, "0"); });
            }
        }
        host.add_proxy_neighbour(cfg.lan_uplink, a);
        undo.push("proxy neighbour " + a.str(), [&host, &cfg, a] { host.delete_proxy_neighbour(cfg.lan_uplink, a); });
    }
}

nlohmann::json add(const Request &req, const NetConfig &cfg)
{
    const std::string host_if = host_veth_name(req.container_id, req.ifname);
    Netlink host;
    Netlink container = container_netlink(req.netns);
    if (container.link_exists(req.ifname))
        throw CniError(ErrorCode::InterfaceExists, "an interface named " + req.ifname + " already exists in " + req.netns);
    if (host.link_exists(host_if))
        throw CniError(ErrorCode::InterfaceExists, "the host interface " + host_if + " for this container exists already");
    if (!cfg.lan_uplink.empty())
        check_lan(host, cfg);
    for (const IpAddr &r : cfg.requested_ips) {
        bool fits = cfg.delegated_ipam(); // the IPAM plugin judges its own requests
        for (const IpPool &p : cfg.pools)
            fits = fits || p.contains(r);
        if (!fits)
            throw CniError(ErrorCode::InvalidConfig, "requested address " + r.str() + " is in none of the network's ranges");
    }
    // Declared before the rollback, whose undos use them: they must outlive it.
    const PinRoot root(cfg.pin_root);
    std::vector<IpAddr> addrs;
    Rollback undo;
    if (cfg.delegated_ipam()) {
        addrs = result_addresses(delegate(req, cfg.ipam_type, "ADD"));
        undo.push("IPAM " + cfg.ipam_type, [&] { delegate(req, cfg.ipam_type, "DEL"); });
        if (addrs.empty())
            throw CniError(ErrorCode::IoFailure, "IPAM plugin " + cfg.ipam_type + " gave no address");
    } else {
        IpamStore ipam(ipam_dir(cfg.state_dir, cfg.name));
        for (const IpPool &pool : cfg.pools) {
            std::optional<IpAddr> wanted;
            for (const IpAddr &r : cfg.requested_ips)
                if (pool.contains(r))
                    wanted = r;
            addrs.push_back(ipam.allocate(pool, req.container_id, req.ifname, wanted));
        }
        undo.push("address leases",
                  [&] { IpamStore(ipam_dir(cfg.state_dir, cfg.name)).release(req.container_id, req.ifname); });
    }
    maybe_fail("ipam");

    std::optional<MacAddr> bridge_mac;
    if (cfg.bridge_mode) {
        // The bridge is shared by the network's containers: made by the first ADD, kept by DEL.
        if (host.ensure_bridge(cfg.bridge))
            undo.push("bridge " + cfg.bridge, [&] { host.delete_link(cfg.bridge); });
        host.set_up(cfg.bridge);
        for (const IpPool &p : cfg.pools)
            if (host.ensure_address(cfg.bridge, *p.gateway(), p.prefix_len()))
                undo.push("gateway address", [&, p] { host.delete_address(cfg.bridge, *p.gateway(), p.prefix_len()); });
        bridge_mac = host.link_mac(cfg.bridge);
    }

    host.create_veth(host_if, req.ifname, req.netns, cfg.mtu, cfg.mac);
    undo.push("veth " + host_if, [&] { host.delete_link(host_if); });
    const MacAddr host_mac = host.link_mac(host_if).value();
    const MacAddr mac = container.link_mac(req.ifname).value();
    maybe_fail("veth");

    // Everything below lives on the veth and goes when it is deleted, except the source
    // rules, which are undone one by one.
    container.set_up(req.ifname);
    container.enable_gro(req.ifname);
    const std::uint32_t container_index = container.link_index(req.ifname).value();
    const RouteOptions main_table{RT_TABLE_MAIN, kMetricBase + container_index, false};
    const RouteOptions own_table{kTableBase + container_index, 0, false};
    const RouteOptions own_default{own_table.table, 0, /*onlink=*/true}; // the gateway route is not in this table
    for (const IpAddr &a : addrs) {
        const AddressPlan plan = plan_for(cfg, a);
        container.add_address(req.ifname, a, plan.prefix_len);
        if (!cfg.bridge_mode && a.is_v4())
            container.add_route(req.ifname, plan.gateway, 32, std::nullopt, main_table);
        container.add_route(req.ifname, a.any_of_family(), 0, plan.gateway, main_table);
        if (plan.subnet)
            container.add_route(req.ifname, *plan.subnet, plan.prefix_len, std::nullopt, own_table);
        container.add_route(req.ifname, a.any_of_family(), 0, plan.gateway, own_default);
        container.add_source_rule(a, own_table.table, kSourceRulePriority);
        undo.push("rule from " + a.str(), [&, a] { Netlink(req.netns).delete_source_rule(a, kSourceRulePriority); });
        // Routed mode: the gateway exists only as this entry. Bridge mode: ARP finds the bridge.
        if (!cfg.bridge_mode)
            container.add_permanent_neighbour(req.ifname, plan.gateway, host_mac);
    }
    maybe_fail("container");
    if (cfg.bridge_mode)
        host.set_master(host_if, cfg.bridge);
    host.set_up(host_if);
    // Routed mode: a route and a neighbour per container. Bridge mode: the bridge's subnet
    // route reaches them, and ARP on the bridge finds them.
    for (const IpAddr &a : cfg.bridge_mode ? std::vector<IpAddr>{} : addrs) {
        host.add_route(host_if, a, a.is_v4() ? 32 : 128, std::nullopt);
        host.add_permanent_neighbour(host_if, a, mac);
    }
    // The host routes for its containers (and bpf_fib_lookup refuses to route when it
    // does not): forwarding on, like the reference bridge plugin. It stays on after DEL;
    // only a failed ADD that turned it on turns it off again.
    for (const IpAddr &a : addrs) {
        const std::string knob = a.is_v4() ? "net.ipv4.ip_forward" : "net.ipv6.conf.all.forwarding";
        if (sysctl_read(knob) == "0") {
            sysctl_write(knob, "1");
            undo.push(knob, [knob] { sysctl_write(knob, "0"); });
        }
    }
    if (!cfg.lan_uplink.empty())
        answer_on_lan(host, cfg, addrs, undo);
    maybe_fail("host");

    // Up is idempotent and attaches the uplinks that are not attached yet (a network added
    // to the conflist later brings its own); only a datapath this ADD brought up is undone.
    if (const bool was_up = root.is_up(); !was_up || !cfg.uplinks.empty()) {
        datapath_up(root, UpOptions{cfg.uplinks, cfg.xdp_mode, /*refresh=*/false});
        // Only undone when nothing else uses it: a concurrent ADD may have brought it up too.
        if (!was_up)
            undo.push("datapath", [&] { datapath_down_if_unused(root); });
    }
    maybe_fail("datapath");
    MapSet maps = MapSet::open_pinned(root.path());
    // What a lost DEL left behind (its device is gone) must not refuse this container its
    // address or its ports. Not undone: it was dead state.
    reclaim_stale(root, maps, cfg, addrs);
    Endpoints(root, maps).add(EndpointSpec{addrs, host_if, mac});
    // The undos open the maps again: `maps` is gone by the time they run.
    undo.push("endpoint", [&] {
        MapSet m = MapSet::open_pinned(root.path());
        for (const IpAddr &a : addrs)
            Endpoints(root, m).remove(a);
    });
    maybe_fail("endpoint");
    if (cfg.policy) {
        const std::uint32_t ifindex = NetDev::by_name(host_if).ifindex;
        Policies(root, maps).set(ifindex, *cfg.policy);
        undo.push("policy", [&, ifindex] {
            MapSet m = MapSet::open_pinned(root.path());
            Policies(root, m).clear(ifindex);
        });
        maybe_fail("policy");
    }
    // After the endpoint: a concurrent DEL of the network's last other container then
    // sees it, and keeps the rule.
    if (cfg.ip_masq) {
        for (const IpPrefix &subnet : masq_subnets(cfg, addrs)) {
            if (!MasqRules(root, maps).ensure(MasqRule{subnet, "", {}}))
                continue; // the network's earlier containers made it
            undo.push("masquerade " + subnet.str(), [&, subnet] {
                MapSet m = MapSet::open_pinned(root.path());
                MasqRules(root, m).remove_unused(subnet, addrs);
            });
        }
    }

    DnatTable dnat(root, maps);
    // Podman hands every network of a container the same portMappings. The first network
    // to publish a port keeps it, as with the portmap plugin (its first rule wins); the
    // others leave it alone, and take it over when that network's DEL comes (detach()).
    const std::vector<DnatRule> published = dnat.list();
    const std::vector<IpAddr> own = cfg.port_mappings.empty() ? std::vector<IpAddr>{} : container.addresses();
    std::vector<std::string> ports;
    const auto held_by_this_container = [&](const DnatRule &rule) {
        return std::any_of(published.begin(), published.end(), [&](const DnatRule &r) {
            return r.proto == rule.proto && r.host == rule.host && r.ports == rule.ports &&
                   std::find(own.begin(), own.end(), r.backend) != own.end();
        });
    };
    for (const PortMapping &pm : cfg.port_mappings) {
        for (const IpAddr &a : addrs) {
            if (pm.host_ip && pm.host_ip->is_v4() != a.is_v4())
                continue;
            const DnatRule rule{pm.host_ip.value_or(a.any_of_family()), pm.proto, {pm.host_port, pm.host_port}, a,
                                {pm.container_port, pm.container_port}};
            ports.push_back(rule.published() + " -> " + std::to_string(pm.container_port));
            if (held_by_this_container(rule))
                continue;
            dnat.add(rule);
            undo.push("port " + rule.published(), [&, rule] {
                MapSet m = MapSet::open_pinned(root.path());
                DnatTable(root, m).remove(rule.host, rule.proto, rule.ports);
            });
        }
    }
    maybe_fail("ports");
    AttachmentRecord record{req.container_id, "", cfg.name, req.ifname, host_if, {}, ports, std::time(nullptr)};
    if (const auto name = req.args.find("K8S_POD_NAME"); name != req.args.end())
        record.name = name->second;
    for (const IpAddr &a : addrs)
        record.addresses.push_back(a.str());
    const AttachmentRecords records(cfg.state_dir);
    records.save(record);
    undo.push("attachment record", [records, host_if] { records.erase(host_if); }); // outlives `records`
    maybe_fail("record");
    undo.commit();
    return result(req, cfg, host_if, host_mac, mac, addrs, bridge_mac);
}

namespace {

// The addresses of an attachment: its leases (built-in IPAM), or what the runtime's
// prevResult says and what the datapath has registered on its host end (delegated IPAM).
std::vector<IpAddr> attachment_addresses(const Request *req, const NetConfig &cfg, const std::string &container_id,
                                         const std::string &ifname)
{
    std::vector<IpAddr> addrs;
    if (!cfg.delegated_ipam())
        return IpamStore(ipam_dir(cfg.state_dir, cfg.name)).leased_to(container_id, ifname);
    if (req)
        addrs = result_addresses(req->config.value("prevResult", nlohmann::json::object()));
    const PinRoot root(cfg.pin_root);
    const auto host_index = Netlink().link_index(host_veth_name(container_id, ifname));
    if (root.is_up() && host_index) {
        MapSet maps = MapSet::open_pinned(root.path());
        for (const auto &[key, ep] : maps.endpoints.entries())
            if (ep.ifindex == *host_index)
                addrs.push_back(IpAddr::from_raw(key.addr));
    }
    std::sort(addrs.begin(), addrs.end());
    addrs.erase(std::unique(addrs.begin(), addrs.end()), addrs.end());
    return addrs;
}

// The ports a leaving attachment published go to another flatpath interface of the same
// container, where it has one of the family (the network whose ADD left them alone, see
// add()), as the portmap plugin's next rule would take over.
void hand_over_ports(const Request &req, MapSet &maps, DnatTable &dnat, const std::vector<DnatRule> &removed,
                     const std::vector<IpAddr> &leaving)
{
    if (!namespace_lives(req))
        return;
    std::vector<IpAddr> others;
    for (const IpAddr &b : Netlink(req.netns).addresses())
        if (std::find(leaving.begin(), leaving.end(), b) == leaving.end() && maps.endpoints.lookup(endpoint_key(b)))
            others.push_back(b);
    for (const DnatRule &r : removed)
        for (const IpAddr &b : others)
            if (b.is_v4() == r.backend.is_v4()) {
                dnat.add(DnatRule{r.host, r.proto, r.ports, b, r.backend_ports});
                break;
            }
}

// Takes one attachment off (ports, endpoint, host veth, addresses). Every step runs
// whatever the others met, and what is already gone is no error; the errors are returned.
std::vector<std::string> detach(const Request *req, const NetConfig &cfg, const std::string &container_id,
                                const std::string &ifname)
{
    std::vector<std::string> errors;
    const auto attempt = [&](const std::function<void()> &step) {
        try {
            step();
        } catch (const std::exception &e) {
            errors.push_back(e.what());
        }
    };
    std::vector<IpAddr> addrs;
    attempt([&] { addrs = attachment_addresses(req, cfg, container_id, ifname); });
    // The routes went with the container's namespace or go with the veth; the source rules
    // stay in a namespace that lives on (podman network disconnect).
    if (req && namespace_lives(*req))
        attempt([&] {
            Netlink container(req->netns);
            for (const IpAddr &a : addrs)
                container.delete_source_rule(a, kSourceRulePriority);
        });
    const PinRoot root(cfg.pin_root);
    if (root.is_up()) {
        attempt([&] {
            MapSet maps = MapSet::open_pinned(root.path());
            DnatTable dnat(root, maps);
            const std::vector<DnatRule> removed = dnat.remove_to(addrs);
            for (const IpAddr &a : addrs)
                if (maps.endpoints.lookup(endpoint_key(a)))
                    Endpoints(root, maps).remove(a);
            if (cfg.ip_masq) {
                std::vector<IpPrefix> subnets = masq_subnets(cfg, addrs);
                // A subnet file gone before DEL names no pool: the rules that hold the
                // container's addresses are its network's.
                if (cfg.pools.empty() && !cfg.delegated_ipam())
                    for (const MasqRule &rule : MasqRules(root, maps).list())
                        for (const IpAddr &a : addrs)
                            if (rule.source.contains(a))
                                subnets.push_back(rule.source);
                for (const IpPrefix &subnet : subnets)
                    MasqRules(root, maps).remove_unused(subnet);
            }
            if (req && !removed.empty())
                hand_over_ports(*req, maps, dnat, removed, addrs);
        });
    }
    if (!cfg.lan_uplink.empty())
        attempt([&] {
            Netlink host;
            for (const IpAddr &a : addrs)
                host.delete_proxy_neighbour(cfg.lan_uplink, a);
        });
    attempt([&] { Netlink().delete_link(host_veth_name(container_id, ifname)); });
    attempt([&] { AttachmentRecords(cfg.state_dir).erase(host_veth_name(container_id, ifname)); });
    if (cfg.delegated_ipam()) {
        if (req)
            attempt([&] { delegate(*req, cfg.ipam_type, "DEL"); });
    } else {
        attempt([&] { IpamStore(ipam_dir(cfg.state_dir, cfg.name)).release(container_id, ifname); });
    }
    return errors;
}

void throw_if_any(const std::string &what, const std::vector<std::string> &errors)
{
    if (errors.empty())
        return;
    std::string details;
    for (const auto &e : errors)
        details += (details.empty() ? "" : "; ") + e;
    throw CniError(ErrorCode::IoFailure, what + " met " + std::to_string(errors.size()) + " error(s)", details);
}

[[noreturn]] void broken(const std::string &what)
{
    throw CniError(ErrorCode::AttachmentBroken, what);
}

} // namespace

void del(const Request &req, const NetConfig &cfg)
{
    throw_if_any("DEL", detach(&req, cfg, req.container_id, req.ifname));
}

void check(const Request &req, const NetConfig &cfg)
{
    const std::string host_if = host_veth_name(req.container_id, req.ifname);
    const std::vector<IpAddr> addrs = attachment_addresses(&req, cfg, req.container_id, req.ifname);
    if (addrs.empty())
        broken("no address is known for " + req.container_id + "/" + req.ifname);
    Netlink host;
    Netlink container = container_netlink(req.netns);
    const auto mac = container.link_mac(req.ifname);
    if (!mac)
        broken(req.ifname + " is missing in " + req.netns);
    const auto host_index = host.link_index(host_if);
    if (!host_index)
        broken("the host end " + host_if + " is missing");
    const PinRoot root(cfg.pin_root);
    if (!root.is_up())
        broken("the flatpath datapath is not up at " + root.path());
    MapSet maps = MapSet::open_pinned(root.path());
    for (const IpAddr &a : addrs) {
        const auto ep = maps.endpoints.lookup(endpoint_key(a));
        if (!ep || ep->ifindex != *host_index || MacAddr::from(ep->mac) != *mac)
            broken("endpoint " + a.str() + " is not registered on " + host_if + " with " + mac->str());
    }
    const nlohmann::json prev = req.config.value("prevResult", nlohmann::json::object());
    for (const auto &i : prev.value("interfaces", nlohmann::json::array()))
        if (i.value("name", "") == req.ifname && i.contains("mac") && i["mac"] != mac->str())
            broken(req.ifname + " has MAC " + mac->str() + ", the result said " + i["mac"].get<std::string>());
}

void gc(const Request &req, const NetConfig &cfg)
{
    std::set<std::pair<std::string, std::string>> valid;
    for (const char *key : {"cni.dev/valid-attachments", "cni.dev/attachments"})
        for (const auto &a : req.config.value(key, nlohmann::json::array()))
            valid.insert({a.value("containerID", ""), a.value("ifname", "")});
    // Stale: not valid for the runtime, or its host veth is gone (the container's
    // namespace went without a DEL; its endpoint records go below too). A lease younger
    // than kVethGrace may belong to an ADD that has not made its veth yet.
    constexpr auto kVethGrace = std::chrono::seconds(60);
    const auto now = std::filesystem::file_time_type::clock::now();
    std::set<std::pair<std::string, std::string>> stale;
    const Netlink host;
    for (const Lease &l : IpamStore(ipam_dir(cfg.state_dir, cfg.name)).leases()) {
        const bool veth_gone =
            now - l.taken > kVethGrace && !host.link_exists(host_veth_name(l.container_id, l.ifname));
        if (!valid.count({l.container_id, l.ifname}) || veth_gone)
            stale.insert({l.container_id, l.ifname});
    }
    std::vector<std::string> errors;
    if (const PinRoot root(cfg.pin_root); root.is_up()) {
        try {
            MapSet maps = MapSet::open_pinned(root.path());
            reclaim_stale_endpoints(root, maps);
        } catch (const std::exception &e) {
            errors.push_back(e.what());
        }
    }
    for (const auto &[id, ifname] : stale) {
        const auto e = detach(nullptr, cfg, id, ifname);
        errors.insert(errors.end(), e.begin(), e.end());
    }
    throw_if_any("GC", errors);
}

void status(const NetConfig &cfg)
{
    const PinRoot root(cfg.pin_root);
    bool usable = false;
    try {
        usable = root.bpffs_usable();
    } catch (const std::exception &e) {
        throw CniError(ErrorCode::PluginNotAvailable, "flatpath cannot pin its datapath", e.what());
    }
    if (!usable)
        throw CniError(ErrorCode::PluginNotAvailable, "flatpath cannot pin its datapath",
                       root.path() + "'s parent is not a bpf filesystem");
}

} // namespace fp::cni

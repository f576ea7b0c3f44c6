// ps: one row per container the host runs on flatpath, with what the datapath does for it.
#include <CLI/CLI.hpp>
#include <net/if.h>
#include <nlohmann/json.hpp>

#include <iostream>

#include "commands.hpp"
#include "containers.hpp"
#include "counters.hpp"
#include "dnat_table.hpp"
#include "interface_health.hpp"
#include "listing.hpp"
#include "mark_rules.hpp"
#include "netdev.hpp"
#include "policy.hpp"

namespace fp {

namespace {

struct PsOptions {
    bool json = false;
    RecordDirs dirs;
};

struct PsRow {
    KnownContainer c;
    std::vector<std::string> ports, marks;
    std::string policy; // its summary, "" without one
    fp_ep_stats counters{};
    std::string state;
};

std::optional<NetDev> device_named(const std::string &name)
{
    const unsigned index = name.empty() ? 0 : ::if_nametoindex(name.c_str());
    return index ? NetDev::by_index(index) : std::nullopt;
}

bool has(const std::vector<IpAddr> &addrs, const IpAddr &a)
{
    return std::find(addrs.begin(), addrs.end(), a) != addrs.end();
}

// What the datapath has for the container: its device (the record's, else where its
// first address is registered), the ports published to its addresses, its mark rules,
// its counters, and whether its attachment is whole.
PsRow row_of(const KnownContainer &c, const PinRoot &root, MapSet *maps)
{
    PsRow r{c, {}, {}, "", {}, ""};
    if (!maps) {
        r.state = "datapath down";
        return r;
    }
    for (const IpAddr &a : c.addresses)
        if (const auto ep = maps->endpoints.lookup(endpoint_key(a)); ep && r.c.host_dev.empty())
            if (const auto dev = NetDev::by_index(ep->ifindex))
                r.c.host_dev = dev->name;
    for (const DnatRule &d : DnatTable(root, *maps).list())
        if (has(c.addresses, d.backend))
            r.ports.push_back(d.published() + " -> " + d.backend_ports.str());
    for (const MarkRule &m : MarkRules(root, *maps).list())
        if (!m.any_addr() && has(c.addresses, m.addr))
            r.marks.push_back(m.describe());
    const auto dev = device_named(r.c.host_dev);
    if (!dev) {
        r.state = "device gone";
        return r;
    }
    const auto iface = maps->ifaces.lookup(iface_key(dev->ifindex));
    bool registered = iface && iface->role == FP_ROLE_ENDPOINT;
    for (const IpAddr &a : c.addresses) {
        const auto ep = maps->endpoints.lookup(endpoint_key(a));
        registered = registered && ep && ep->ifindex == dev->ifindex;
    }
    if (!registered) {
        r.state = "not registered";
        return r;
    }
    r.counters = sum_per_cpu(maps->ep_stats.per_cpu(iface->slot));
    if (const auto p = Policies(root, *maps).get(dev->ifindex))
        r.policy = p->summary();
    r.state = interface_health(root, dev->ifindex, *iface).healthy ? "ok" : "program detached";
    return r;
}

std::string joined(const std::vector<std::string> &v)
{
    std::string s;
    for (const std::string &x : v)
        s += (s.empty() ? "" : ", ") + x;
    return s.empty() ? "-" : s;
}

std::vector<std::string> strs(const std::vector<IpAddr> &v)
{
    std::vector<std::string> out;
    for (const IpAddr &a : v)
        out.push_back(a.str());
    return out;
}

nlohmann::json row_json(const PsRow &r)
{
    return {{"name", r.c.name},
            {"id", r.c.id},
            {"network", r.c.network},
            {"addresses", strs(r.c.addresses)},
            {"host_dev", r.c.host_dev},
            {"ports", r.ports},
            {"marks", r.marks},
            {"policy", r.policy.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.policy)},
            {"managed_by", r.c.cni && r.c.daemon ? "cni+daemon" : r.c.cni ? "cni" : "daemon"},
            {"to_packets", r.counters.to_packets},
            {"to_bytes", r.counters.to_bytes},
            {"from_packets", r.counters.from_packets},
            {"from_bytes", r.counters.from_bytes},
            {"state", r.state}};
}

void run_ps(CliContext &ctx, const PsOptions &o)
{
    const PinRoot root = ctx.pin_root();
    std::unique_ptr<MapSet> maps = root.is_up() ? std::make_unique<MapSet>(ctx.open_maps(root)) : nullptr;
    std::vector<PsRow> rows;
    for (const KnownContainer &c : known_containers(o.dirs))
        rows.push_back(row_of(c, root, maps.get()));
    print_listing<PsRow>(std::cout, rows, o.json,
                         {{"NAME", "ID", "NETWORK", "ADDRESSES", "DEV", "PORTS", "MARKS", "POLICY", "TO PKTS/BYTES",
                           "FROM PKTS/BYTES", "STATE"},
                          row_json,
                          [](const PsRow &r) {
                              return std::vector<std::string>{
                                  r.c.name.empty() ? "-" : r.c.name,
                                  r.c.id.substr(0, 12),
                                  r.c.network.empty() ? "(attached)" : r.c.network,
                                  joined(strs(r.c.addresses)),
                                  r.c.host_dev.empty() ? "-" : r.c.host_dev,
                                  joined(r.ports),
                                  joined(r.marks),
                                  r.policy.empty() ? "-" : r.policy,
                                  std::to_string(r.counters.to_packets) + "/" + std::to_string(r.counters.to_bytes),
                                  std::to_string(r.counters.from_packets) + "/" + std::to_string(r.counters.from_bytes),
                                  r.state};
                          }});
}

} // namespace

void add_ps_command(CLI::App &app, CliContext &ctx)
{
    auto o = std::make_shared<PsOptions>();
    auto *ps = app.add_subcommand(
        "ps", "one row per container on flatpath (attached by the CNI plugin, or accelerated by the daemon): name, ID, "
              "network, addresses, host device, published ports, mark rules, policy (each direction's default, + its "
              "rules), packets and bytes the fast path "
              "delivered to it and took from it, and its state: ok, device gone, not registered (its addresses are "
              "not in the datapath), program detached, or datapath down");
    ps->add_flag("--json", o->json, "print JSON");
    o->dirs.add_options(*ps, "its records are", "the attachment records are");
    ps->callback([&ctx, o] { run_ps(ctx, *o); });
}

} // namespace fp

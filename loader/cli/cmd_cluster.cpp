// cluster status|hosts|routes: what this host's cluster member says (its state file),
// what etcd holds (every host's subnet lease), and what the datapath routes.
#include <CLI/CLI.hpp>

#include <chrono>
#include <fstream>
#include <iostream>

#include "cluster_table.hpp"
#include "commands.hpp"
#include "error.hpp"
#include "etcd_client.hpp"
#include "listing.hpp"
#include "netlink.hpp"
#include "subnet_leaser.hpp"

namespace fp {

namespace {

std::int64_t unix_now()
{
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void add_status(CLI::App &cluster)
{
    auto run_dir = std::make_shared<std::string>("/run/flatpath");
    auto json = std::make_shared<bool>(false);
    auto *s = cluster.add_subcommand("status", "this host's cluster member, as the running daemon last wrote it: "
                                               "connected, its subnet and lease, how many peers, the last change");
    s->add_option("--run-dir", *run_dir, "the daemon's run directory")->envname("FLATPATH_RUN_DIR")->capture_default_str();
    s->add_flag("--json", *json, "print JSON");
    s->callback([run_dir, json] {
        const std::string path = *run_dir + "/cluster.json";
        std::ifstream in(path);
        if (!in)
            throw Error("no cluster member has written " + path + " (is `flatpath daemon --etcd-endpoints` running?)");
        nlohmann::json j;
        try {
            j = nlohmann::json::parse(in);
        } catch (const nlohmann::json::exception &e) {
            throw Error(path + ": " + e.what());
        }
        if (*json) {
            std::cout << j.dump(2) << "\n";
            return;
        }
        const std::int64_t now = unix_now();
        std::cout << "connected:  " << (j.value("connected", false) ? "yes" : "no") << " (etcd " << j.value("etcd", "?")
                  << ", prefix " << j.value("prefix", "?") << ")\n";
        if (j.contains("subnet"))
            std::cout << "subnet:     " << j["subnet"].get<std::string>()
                      << (j.contains("ipv6_subnet") ? " and " + j["ipv6_subnet"].get<std::string>() : "") << " at "
                      << j.value("public_ip", "?") << ", lease ends in "
                      << std::max<std::int64_t>(j.value("lease_expires_unix", now) - now, 0) << " s unless renewed\n";
        else
            std::cout << "subnet:     none leased yet\n";
        std::cout << "peers:      " << j.value("peers", 0) << " subnets of other hosts\n";
        std::cout << "changes:    " << j.value("events", 0) << " watch events, " << j.value("resyncs", 0) << " full listings, "
                  << j.value("skipped_records", 0) << " records skipped";
        if (j.contains("last_event_unix"))
            std::cout << ", the last " << now - j["last_event_unix"].get<std::int64_t>() << " s ago";
        std::cout << "\n";
    });
}

struct HostRow {
    SubnetRecord record;
    std::optional<std::int64_t> ttl;
    std::size_t endpoints = 0; // the host's endpoint records (flatpath hosts)
};

void add_hosts(CLI::App &cluster)
{
    auto endpoints = std::make_shared<std::vector<std::string>>();
    auto prefix = std::make_shared<std::string>("/coreos.com/network");
    auto json = std::make_shared<bool>(false);
    auto *h = cluster.add_subcommand("hosts", "every host's subnet lease in etcd (Flannel's hosts too): subnet, "
                                              "address, backend, seconds the lease has left, endpoints recorded");
    h->add_option("--etcd-endpoints", *endpoints, "etcd's client URLs")
        ->envname("FLANNELD_ETCD_ENDPOINTS")
        ->delimiter(',')
        ->required();
    h->add_option("--etcd-prefix", *prefix, "the key prefix")->envname("FLANNELD_ETCD_PREFIX")->capture_default_str();
    h->add_flag("--json", *json, "print JSON");
    h->callback([endpoints, prefix, json] {
        const EtcdClient etcd(*endpoints);
        const auto config_kv = etcd.get(*prefix + "/config");
        if (!config_kv)
            throw Error("etcd " + etcd.current_endpoint() + " has no " + *prefix + "/config: no cluster there");
        const ClusterConfig config = ClusterConfig::parse(config_kv->value);
        std::vector<std::string> skipped;
        std::vector<HostRow> rows;
        for (const SubnetRecord &r : read_subnets(etcd.get_prefix(*prefix + "/subnets/"), config, skipped))
            rows.push_back({r, r.lease ? etcd.time_to_live(r.lease) : std::nullopt});
        for (const EtcdKeyValue &kv : etcd.get_prefix(*prefix + "/flatpath/endpoints/").kvs) {
            const auto j = nlohmann::json::parse(kv.value, nullptr, false);
            for (HostRow &row : rows)
                if (j.is_object() && j.value("Host", std::string()) == row.record.public_ip.str())
                    row.endpoints++;
        }
        for (const std::string &s : skipped)
            std::cerr << "skipped " << s << "\n";
        print_listing<HostRow>(std::cout, rows, *json,
                               {{"SUBNET", "IPV6 SUBNET", "HOST", "BACKEND", "TTL", "ENDPOINTS"},
                                [](const HostRow &r) {
                                    nlohmann::json j = {{"subnet", r.record.subnet.str()},
                                                        {"public_ip", r.record.public_ip.str()},
                                                        {"backend", std::string(backend_name(r.record.backend))}};
                                    if (r.record.ipv6_subnet)
                                        j["ipv6_subnet"] = r.record.ipv6_subnet->str();
                                    if (r.record.public_ipv6)
                                        j["public_ipv6"] = r.record.public_ipv6->str();
                                    j["ttl"] = r.ttl ? nlohmann::json(*r.ttl) : nlohmann::json(nullptr);
                                    j["endpoints"] = r.endpoints;
                                    return j;
                                },
                                [](const HostRow &r) {
                                    return std::vector<std::string>{
                                        r.record.subnet.str(), r.record.ipv6_subnet ? r.record.ipv6_subnet->str() : "-",
                                        r.record.public_ip.str() + (r.record.public_ipv6 ? " " + r.record.public_ipv6->str() : ""),
                                        std::string(backend_name(r.record.backend)),
                                        r.ttl ? std::to_string(*r.ttl) + " s" : "none", std::to_string(r.endpoints)};
                                }});
    });
}

struct RouteRow {
    IpPrefix dest;
    std::optional<IpAddr> via; // none: a cluster network
    bool routed = false;       // the kernel has flatpath's route for it
};

void add_routes(CLI::App &cluster, CliContext &ctx)
{
    auto json = std::make_shared<bool>(false);
    auto *r = cluster.add_subcommand("routes", "what the datapath knows of the cluster: the cluster networks (never "
                                               "masqueraded) and each other host's subnet, with its route");
    r->add_flag("--json", *json, "print JSON");
    r->callback([&ctx, json] {
        const PinRoot root = ctx.pin_root();
        MapSet maps = ctx.open_maps(root);
        const ClusterPicture picture = ClusterTable(root, maps).list();
        std::set<IpPrefix> kernel;
        for (const Route &k : Netlink().routes())
            if (k.protocol == kClusterRouteProtocol)
                kernel.insert(IpPrefix::of(k.dst, k.prefix_len));
        std::vector<RouteRow> rows;
        for (const IpPrefix &n : picture.networks)
            rows.push_back({n, std::nullopt, false});
        for (const PeerSubnet &p : picture.peers)
            rows.push_back({p.subnet, p.peer, kernel.contains(p.subnet)});
        print_listing<RouteRow>(std::cout, rows, *json,
                                {{"DESTINATION", "VIA", "ROUTE"},
                                 [](const RouteRow &r) {
                                     nlohmann::json j = {{"destination", r.dest.str()}};
                                     if (r.via) {
                                         j["via"] = r.via->str();
                                         j["routed"] = r.routed;
                                     } else {
                                         j["cluster_network"] = true;
                                     }
                                     return j;
                                 },
                                 [](const RouteRow &r) {
                                     return std::vector<std::string>{
                                         r.dest.str(), r.via ? r.via->str() : "(cluster network)",
                                         r.via ? (r.routed ? "proto 241" : "missing") : "-"};
                                 }});
    });
}

} // namespace

void add_cluster_command(CLI::App &app, CliContext &ctx)
{
    auto *c = app.add_subcommand("cluster", "the multi-host cluster (`flatpath daemon --etcd-endpoints`, docs/cluster.md)");
    c->require_subcommand(1);
    add_status(*c);
    add_hosts(*c);
    add_routes(*c, ctx);
}

} // namespace fp

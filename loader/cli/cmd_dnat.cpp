// dnat add|del|list: published ports.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iostream>

#include "cluster_table.hpp"
#include "commands.hpp"
#include "dnat_table.hpp"
#include "error.hpp"
#include "local_addrs.hpp"
#include "listing.hpp"

namespace fp {

namespace {

struct DnatArgs {
    std::string proto;
    std::string ports;
    std::string backend;
    std::string host_ip;
};

// The published address: --host-ip, or "any host address" of the backend's family.
IpAddr published_host(const std::string &host_ip, const IpAddr &family_of)
{
    return host_ip.empty() ? family_of.any_of_family() : IpAddr::parse(host_ip);
}

// What `dnat add` refuses before it writes anything: a backend that is no endpoint here
// nor in another cluster host's subnet (the datapath would translate to an address it
// cannot deliver to), a host address that is none of this host's (nothing would ever
// arrive there to translate). A loopback address is the host's: a port published there
// is reached by the host's own sockets alone.
void check_publication(const PinRoot &root, MapSet &maps, const DnatRule &rule, bool host_given)
{
    if (!maps.endpoints.lookup(endpoint_key(rule.backend)) && !ClusterTable(root, maps).host_of(rule.backend))
        throw Error("backend " + rule.backend.str() +
                    " is not a registered endpoint (flatpath endpoint add it first) nor in another cluster host's subnet");
    if (!host_given)
        return;
    const std::string_view use = rule.host.special_use();
    if (use == "loopback")
        return;
    if (!use.empty())
        throw Error("--host-ip " + rule.host.str() + " is a " + std::string(use) + " address, not one of this host's");
    const std::vector<IpAddr> host = host_addresses();
    if (std::find(host.begin(), host.end(), rule.host) == host.end())
        throw Error("--host-ip " + rule.host.str() + " is not an address of this host");
}

} // namespace

void add_dnat_command(CLI::App &app, CliContext &ctx)
{
    auto *dnat = app.add_subcommand("dnat", "publish ports: traffic to a host address and port goes to an endpoint");
    dnat->require_subcommand(1);

    auto a = std::make_shared<DnatArgs>();
    auto *add = dnat->add_subcommand(
        "add", "publish PORT (or a range A-B) to BACKEND, keeping the client's source address; e.g. "
               "`dnat add tcp 8080 10.88.0.5:80`, `dnat add udp 8000-8100 10.88.0.5:9000-9100`");
    add->add_option("PROTO", a->proto, "tcp or udp")->required();
    add->add_option("PORT", a->ports, "the published port, or a range FIRST-LAST")->required();
    add->add_option("BACKEND", a->backend,
                    "a registered endpoint's address (or a container's on another host of the cluster) with the "
                    "port or range to send to (10.88.0.5:80, "
                    "[fd00::5]:80; IPv6 always in brackets); without a port, the same port(s)")
        ->required();
    add->add_option("--host-ip", a->host_ip,
                    "publish on this host address only, one of this host's own (default: every host address of "
                    "the backend's family); 127.0.0.1 or ::1: reachable from the host's own programs only, as "
                    "Podman's -p 127.0.0.1:P:C");
    add->callback([&ctx, a] {
        DnatRule rule;
        rule.proto = parse_protocol(a->proto);
        rule.ports = parse_ports(a->ports);
        const Backend backend = parse_backend(a->backend);
        rule.backend = backend.addr;
        rule.backend_ports = backend_ports(rule.ports, backend);
        rule.host = published_host(a->host_ip, backend.addr);
        const PinRoot root = ctx.pin_root();
        MapSet maps = ctx.open_maps(root);
        check_publication(root, maps, rule, !a->host_ip.empty());
        DnatTable(root, maps).add(rule);
        std::cout << "published " << rule.published() << " -> " << rule.backend.with_port(rule.backend_ports.str())
                  << "\n";
    });

    auto d = std::make_shared<DnatArgs>();
    auto *del = dnat->add_subcommand("del", "unpublish a port or range (exactly as added) and drop its flows");
    del->add_option("PROTO", d->proto, "tcp or udp")->required();
    del->add_option("PORT", d->ports, "the published port or range")->required();
    del->add_option("--host-ip", d->host_ip, "the host address it was published on (default: any, IPv4)");
    auto v6 = std::make_shared<bool>(false);
    del->add_flag("-6,--ipv6", *v6, "without --host-ip: the IPv6 'any address' entry");
    del->callback([&ctx, d, v6] {
        const std::uint8_t proto = parse_protocol(d->proto);
        const PortRange ports = parse_ports(d->ports);
        const IpAddr host = published_host(d->host_ip, IpAddr::parse(*v6 ? "::" : "0.0.0.0"));
        if (*v6 && host.is_v4())
            throw Error("-6 names IPv6 entries, but --host-ip " + host.str() + " is IPv4");
        const PinRoot root = ctx.pin_root();
        MapSet maps = ctx.open_maps(root);
        const std::size_t purged = DnatTable(root, maps).remove(host, proto, ports);
        std::cout << "unpublished " << protocol_name(proto) << " " << ports.str() << ", " << purged
                  << " flow(s) dropped\n";
    });

    add_list_command<DnatRule>(
        *dnat, ctx, "list published ports", [](const PinRoot &root, MapSet &maps) { return DnatTable(root, maps).list(); },
        {{"PROTO", "HOST", "PORTS", "BACKEND"},
         [](const DnatRule &r) {
             return nlohmann::json{{"proto", protocol_name(r.proto)},
                                   {"host", r.any_host() ? "any" : r.host.str()},
                                   {"family", r.host.is_v4() ? "ipv4" : "ipv6"},
                                   {"ports", r.ports.str()},
                                   {"backend", r.backend.str()},
                                   {"backend_ports", r.backend_ports.str()}};
         },
         [](const DnatRule &r) {
             return std::vector<std::string>{protocol_name(r.proto),
                                             r.any_host() ? "any (" + r.host.str() + ")" : r.host.str(),
                                             r.ports.str(), r.backend.with_port(r.backend_ports.str())};
         }});
}

} // namespace fp

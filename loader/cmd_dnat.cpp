// dnat add|del|list, ct list|flush|gc.
#include <CLI/CLI.hpp>
#include <arpa/inet.h>
#include <nlohmann/json.hpp>

#include <iostream>

#include "cli_context.hpp"
#include "conntrack.hpp"
#include "datapath_lock.hpp"
#include "dnat_table.hpp"
#include "error.hpp"
#include "local_addrs.hpp"
#include "table.hpp"

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

// What `dnat add` refuses before it writes anything: a backend that is no endpoint (the
// datapath would translate to an address it cannot deliver to), a host address that is
// none of this host's (nothing would ever arrive there to translate).
void check_publication(MapSet &maps, const DnatRule &rule, bool host_given)
{
    if (!maps.endpoints.lookup(endpoint_key(rule.backend)))
        throw Error("backend " + rule.backend.str() + " is not a registered endpoint (flatpath endpoint add it first)");
    if (!host_given)
        return;
    if (const std::string_view use = rule.host.special_use(); !use.empty())
        throw Error("--host-ip " + rule.host.str() + " is a " + std::string(use) + " address, not one of this host's");
    const std::vector<IpAddr> host = host_addresses();
    if (std::find(host.begin(), host.end(), rule.host) == host.end())
        throw Error("--host-ip " + rule.host.str() + " is not an address of this host");
}

std::string flow_state(const Flow &f, std::uint64_t now)
{
    const std::uint64_t until = std::max(f.orig.expires_ns, f.reply ? f.reply->expires_ns : 0);
    const std::uint8_t flags = f.orig.flags | (f.reply ? f.reply->flags : 0);
    // Only an assured flow is "established" (TCP) or a "stream" (UDP): the others are
    // still opening, and a flood of new flows may evict them.
    std::string s = (flags & FP_CT_RST)                            ? "reset"
                    : (flags & (FP_CT_FIN_ORIG | FP_CT_FIN_REPLY)) ? "closing"
                    : f.assured                                    ? (f.key.proto == 17 ? "stream" : "established")
                    : (flags & FP_CT_SEEN_REPLY)                   ? "replied"
                                                                   : "unreplied";
    return until <= now ? s + " (expired)" : s;
}

std::string addr_port(const fp_addr &a, __be16 port)
{
    return IpAddr::from_raw(a).with_port(std::to_string(ntohs(port)));
}

} // namespace

void add_dnat_commands(CLI::App &app, CliContext &ctx)
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
                    "a registered endpoint's address with the port or range to send to (10.88.0.5:80, "
                    "[fd00::5]:80; IPv6 always in brackets); without a port, the same port(s)")
        ->required();
    add->add_option("--host-ip", a->host_ip,
                    "publish on this host address only, one of this host's own (default: every host address of "
                    "the backend's family)");
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
        check_publication(maps, rule, !a->host_ip.empty());
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

    auto json = std::make_shared<bool>(false);
    auto *list = dnat->add_subcommand("list", "list published ports");
    list->add_flag("--json", *json, "print JSON");
    list->callback([&ctx, json] {
        const PinRoot root = ctx.pin_root();
        MapSet maps = ctx.open_maps(root);
        const auto rules = DnatTable(root, maps).list();
        if (*json) {
            nlohmann::json j = nlohmann::json::array();
            for (const auto &r : rules)
                j.push_back({{"proto", protocol_name(r.proto)},
                             {"host", r.any_host() ? "any" : r.host.str()},
                             {"family", r.host.is_v4() ? "ipv4" : "ipv6"},
                             {"ports", r.ports.str()},
                             {"backend", r.backend.str()},
                             {"backend_ports", r.backend_ports.str()}});
            std::cout << j.dump(2) << "\n";
            return;
        }
        Table t({"PROTO", "HOST", "PORTS", "BACKEND"});
        for (const auto &r : rules)
            t.add({protocol_name(r.proto), r.any_host() ? "any (" + r.host.str() + ")" : r.host.str(), r.ports.str(),
                   r.backend.with_port(r.backend_ports.str())});
        t.print(std::cout);
    });

    auto *ct = app.add_subcommand("ct", "the conntrack table of translated flows");
    ct->require_subcommand(1);
    auto ct_json = std::make_shared<bool>(false);
    auto *ct_list = ct->add_subcommand("list", "list translated flows (original direction, with state: established "
                                              "or stream once assured, unreplied or replied before)");
    ct_list->add_flag("--json", *ct_json, "print JSON");
    ct_list->callback([&ctx, ct_json] {
        const PinRoot root = ctx.pin_root();
        MapSet maps = ctx.open_maps(root);
        const std::uint64_t now = monotonic_ns();
        nlohmann::json j = nlohmann::json::array();
        Table t({"PROTO", "CLIENT", "PUBLISHED", "BACKEND", "STATE", "EXPIRES IN", "PACKETS", "BYTES"});
        for (const Flow &f : Conntrack(maps).flows()) {
            const std::uint64_t until = std::max(f.orig.expires_ns, f.reply ? f.reply->expires_ns : 0);
            const long secs = until > now ? static_cast<long>((until - now) / 1000000000ULL) : 0;
            const std::uint64_t packets = f.orig.packets + (f.reply ? f.reply->packets : 0);
            const std::uint64_t bytes = f.orig.bytes + (f.reply ? f.reply->bytes : 0);
            j.push_back({{"proto", protocol_name(f.key.proto)},
                         {"client", addr_port(f.key.saddr, f.key.sport)},
                         {"published", addr_port(f.key.daddr, f.key.dport)},
                         {"backend", addr_port(f.orig.daddr, f.orig.dport)},
                         {"source_rewritten", (f.orig.flags & FP_CT_SNAT) != 0},
                         {"assured", f.assured},
                         {"state", flow_state(f, now)},
                         {"expires_in_s", secs},
                         {"packets", packets},
                         {"bytes", bytes}});
            t.add({protocol_name(f.key.proto), addr_port(f.key.saddr, f.key.sport), addr_port(f.key.daddr, f.key.dport),
                   addr_port(f.orig.daddr, f.orig.dport), flow_state(f, now), std::to_string(secs) + "s",
                   std::to_string(packets), std::to_string(bytes)});
        }
        if (*ct_json)
            std::cout << j.dump(2) << "\n";
        else
            t.print(std::cout);
    });
    auto *flush = ct->add_subcommand("flush", "drop every tracked flow (their next packets start new flows)");
    flush->callback([&ctx] {
        const PinRoot root = ctx.pin_root();
        MapSet maps = ctx.open_maps(root);
        DatapathLock lock(root);
        std::cout << "removed " << Conntrack(maps).flush() << " conntrack entries\n";
    });
    auto *gc = ct->add_subcommand("gc", "remove flows whose timeouts have passed (the daemon does this periodically)");
    gc->callback([&ctx] {
        const PinRoot root = ctx.pin_root();
        MapSet maps = ctx.open_maps(root);
        DatapathLock lock(root);
        std::cout << "removed " << Conntrack(maps).collect_expired(monotonic_ns()) << " expired conntrack entries\n";
    });
}

} // namespace fp

// status: the programs, the interfaces they are attached to, their health.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iostream>

#include "attach.hpp"
#include "commands.hpp"
#include "datapath.hpp"
#include "interfaces.hpp"
#include "netdev.hpp"
#include "programs.hpp"
#include "table.hpp"

namespace fp {

namespace {

std::string role_name(std::uint32_t role)
{
    switch (role) {
    case FP_ROLE_UPLINK: return "uplink";
    case FP_ROLE_ENDPOINT: return "endpoint";
    case FP_ROLE_LOCAL: return "local";
    default: return "?";
    }
}

// What is attached to one interface, as recorded and as the kernel says now.
nlohmann::json interface_json(const PinRoot &root, std::uint32_t ifindex, const fp_iface &rec)
{
    const auto dev = NetDev::by_index(ifindex);
    nlohmann::json j{{"ifindex", ifindex}, {"name", dev ? dev->name : ""}, {"role", role_name(rec.role)}};
    bool healthy = dev.has_value();
    if (rec.attached & FP_ATTACHED_TC_INGRESS) {
        const bool present = dev && TcIngressAttachment::attached_prog_id(ifindex) ==
                                        ProgFd::open_pinned(root, tc_program(rec.role, *dev)).id();
        j["tc_ingress"] = present ? "attached" : "missing";
        healthy = healthy && present;
    }
    if (rec.attached & (FP_ATTACHED_XDP_NATIVE | FP_ATTACHED_XDP_GENERIC)) {
        const bool present = dev && XdpAttachment::attached_prog_id(ifindex) ==
                                        ProgFd::open_pinned(root, Program::XdpUplink).id();
        j["xdp"] = (rec.attached & FP_ATTACHED_XDP_NATIVE) ? "native" : "generic";
        j["xdp_present"] = present;
        healthy = healthy && present;
    }
    if (rec.role == FP_ROLE_ENDPOINT)
        j["addresses"] = rec.nr_addrs;
    j["healthy"] = healthy;
    return j;
}

nlohmann::json status_json(const CliContext &ctx)
{
    const PinRoot root = ctx.pin_root();
    require_root();
    nlohmann::json j{{"pin_root", root.path()}, {"up", root.is_up()}};
    if (!root.is_up())
        return j;
    MapSet maps = ctx.open_maps(root);
    for (Program p : all_programs())
        j["programs"][program_name(p)] = ProgFd::open_pinned(root, p).id();
    j["interfaces"] = nlohmann::json::array();
    for (const auto &[key, rec] : maps.ifaces.entries())
        j["interfaces"].push_back(interface_json(root, key.ifindex, rec));
    j["endpoint_addresses"] = maps.endpoints.entries().size();
    for (const auto &[hook, attached] : host_socket_hooks(root))
        j["socket_hooks"][hook] = attached ? "attached" : "missing";
    const fp_config cfg = maps.config.lookup(0).value_or(fp_config{});
    j["published_entries"] = cfg.dnat_entries;
    j["mark_rules"] = cfg.mark_rules;
    j["masquerade"] = {{"rules", cfg.masq_rules}, {"ports", {cfg.masq_port_min, cfg.masq_port_max}}};
    return j;
}

void print_status(const nlohmann::json &j)
{
    std::cout << "pin root:   " << j["pin_root"].get<std::string>() << (j["up"] ? " (up)" : " (down)") << "\n";
    if (!j["up"])
        return;
    std::cout << "programs:   ";
    for (const auto &[name, id] : j["programs"].items())
        std::cout << name << " (id " << id << ")  ";
    std::cout << "\nendpoints:  " << j["endpoint_addresses"] << " addresses\n";
    std::size_t hooks = 0, attached = 0;
    std::string missing;
    for (const auto &[hook, state] : j["socket_hooks"].items()) {
        ++hooks;
        attached += state == "attached" ? 1 : 0;
        missing += state == "attached" ? "" : " " + hook;
    }
    // The hooks that take the host's own connections to published ports (localhost too).
    std::cout << "sockets:    " << attached << " of " << hooks << " host socket hooks attached to the cgroup2 root"
              << (missing.empty() ? "" : " (missing:" + missing + "; run `flatpath up` again)") << "\n";
    std::cout << "published:  " << j["published_entries"] << " entries (dnat list)\n";
    std::cout << "marks:      " << j["mark_rules"] << " rules (mark list)\n";
    const auto &m = j["masquerade"];
    std::cout << "masquerade: " << m["rules"] << " rules (masq list), ports " << m["ports"][0] << "-" << m["ports"][1]
              << "\n\n";
    Table t({"IFACE", "IFINDEX", "ROLE", "TC", "XDP", "STATE"});
    for (const auto &i : j["interfaces"]) {
        // An uplink without XDP runs tc only: what auto picks on software devices.
        std::string xdp = i["role"] == "uplink" ? "none (tc only)" : "-";
        if (i.contains("xdp"))
            xdp = i["xdp"].get<std::string>() + (i["xdp_present"] ? "" : " (missing)");
        t.add({i["name"].get<std::string>().empty() ? "(gone)" : i["name"].get<std::string>(),
               std::to_string(i["ifindex"].get<unsigned>()), i["role"].get<std::string>(),
               i.value("tc_ingress", "-"), xdp, i["healthy"] ? "ok" : "BROKEN"});
    }
    t.print(std::cout);
}

} // namespace

void add_status_command(CLI::App &app, CliContext &ctx)
{
    auto *status = app.add_subcommand("status", "show the programs, the interfaces they are attached to and their health");
    auto json = std::make_shared<bool>(false);
    status->add_flag("--json", *json, "print JSON");
    status->callback([&ctx, json] {
        const nlohmann::json j = status_json(ctx);
        if (*json)
            std::cout << j.dump(2) << "\n";
        else
            print_status(j);
    });
}

} // namespace fp

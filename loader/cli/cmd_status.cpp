// status: whether the host's datapath is healthy, in one screen: the programs, the
// interfaces they are attached to (and whether the kernel still has them), how full the
// tables are, who traces.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "commands.hpp"
#include "daemon_log.hpp"
#include "datapath.hpp"
#include "file_lock.hpp"
#include "interface_health.hpp"
#include "log_view.hpp"
#include "programs.hpp"
#include "table_sizes.hpp"
#include "table.hpp"
#include "trace_session.hpp"
#include "usage.hpp"

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
    const InterfaceHealth h = interface_health(root, ifindex, rec);
    nlohmann::json j{{"ifindex", ifindex}, {"name", h.name}, {"role", role_name(rec.role)}};
    if (!h.tc.empty())
        j["tc_ingress"] = h.tc;
    if (!h.xdp.empty()) {
        j["xdp"] = h.xdp;
        j["xdp_present"] = h.xdp_present;
    }
    if (rec.role == FP_ROLE_ENDPOINT)
        j["addresses"] = rec.nr_addrs;
    j["healthy"] = h.healthy;
    return j;
}

std::string percent(double fraction)
{
    char buf[16];
    std::snprintf(buf, sizeof buf, "%.0f%%", fraction * 100);
    return buf;
}

nlohmann::json trace_json(const fp_trace_filter &f)
{
    switch (tracer_of(f)) {
    case Tracer::None: return {{"state", "off"}};
    case Tracer::Gone: return {{"state", "abandoned"}, {"pid", f.pid}};
    default: return {{"state", "on"}, {"pid", f.pid}};
    }
}

// The daemon of run_dir: whether one runs (it holds daemon.lock), its pid, and the last
// warnings and errors of its log.
nlohmann::json daemon_json(const std::string &run_dir)
{
    const std::string lock = run_dir + "/daemon.lock";
    if (!std::filesystem::exists(lock))
        return {{"state", "none"}, {"run_dir", run_dir}};
    nlohmann::json j{{"run_dir", run_dir}};
    if (FileLock::try_on_file(lock, 0644)) {
        j["state"] = "not running";
    } else {
        j["state"] = "running";
        std::ifstream in(lock);
        if (unsigned pid = 0; in >> pid)
            j["pid"] = pid;
    }
    std::vector<std::string> last;
    for (const LogLine &l : read_logs({{"daemon", daemon_log_files(run_dir)}}, {}))
        if (l.text.starts_with("warning:") || l.text.starts_with("error:") || l.text.starts_with("critical:"))
            last.push_back(l.time + " " + l.text);
    constexpr std::size_t kShown = 3;
    if (last.size() > kShown)
        last.erase(last.begin(), last.end() - kShown);
    j["last_errors"] = last;
    return j;
}

// What is wrong, one line each: broken attachments, missing socket hooks, tables near
// full, a killed trace's events still on.
std::vector<std::string> problems_of(const nlohmann::json &j)
{
    std::vector<std::string> out;
    for (const auto &i : j["interfaces"])
        if (!i["healthy"])
            out.push_back("interface " + (i["name"].get<std::string>().empty() ? "#" + std::to_string(i["ifindex"].get<unsigned>())
                                                                                 : i["name"].get<std::string>()) +
                          ": " + (i["name"].get<std::string>().empty() ? "the device is gone" : "a program is missing") +
                          " (flatpath attach, or endpoint del)");
    for (const auto &[hook, state] : j["socket_hooks"].items())
        if (state != "attached")
            out.push_back("socket hook " + hook + " is missing: the host's own connections to published ports are not "
                          "translated (run `flatpath up` again)");
    for (const auto &m : j["maps"])
        if (m["near_full"])
            out.push_back("map " + m["map"].get<std::string>() + " is " + percent(m["fraction"].get<double>()) +
                          " full (" + std::to_string(m["entries"].get<std::size_t>()) + " of " +
                          std::to_string(m["capacity"].get<std::uint32_t>()) + ")");
    const auto &mp = j["masquerade"]["busiest"];
    if (mp["near_full"])
        out.push_back("masquerade: flows to " + mp["destination"].get<std::string>() + " hold " +
                      std::to_string(mp["ports"].get<std::size_t>()) + " of " +
                      std::to_string(mp["range"].get<std::uint32_t>()) + " ports (up --masq-ports widens the range)");
    if (j["trace"]["state"] == "abandoned")
        out.push_back("a trace (pid " + std::to_string(j["trace"]["pid"].get<std::uint32_t>()) +
                      ") was killed with its events on: the datapath pays for them until a trace or the daemon turns "
                      "them off");
    return out;
}

nlohmann::json status_json(const CliContext &ctx, const std::string &run_dir)
{
    const PinRoot root = ctx.pin_root();
    require_root();
    nlohmann::json j{{"pin_root", root.path()}, {"up", root.is_up()}, {"daemon", daemon_json(run_dir)}};
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
    const MasqPortUse use = busiest_masq_destination(Conntrack(maps).flows(), cfg);
    const bool ports_near_full = use.range && static_cast<double>(use.ports) >= kNearFull * use.range;
    j["masquerade"] = {{"rules", cfg.masq_rules},
                       {"ports", {cfg.masq_port_min, cfg.masq_port_max}},
                       {"busiest",
                        {{"destination", use.destination},
                         {"ports", use.ports},
                         {"range", use.range},
                         {"near_full", ports_near_full}}}};
    j["maps"] = nlohmann::json::array();
    for (const MapFill &f : map_fills(maps))
        j["maps"].push_back({{"map", f.map},
                             {"entries", f.entries},
                             {"capacity", f.capacity},
                             {"fraction", f.fraction()},
                             {"near_full", f.fraction() >= kNearFull}});
    j["map_memory_bytes"] = pinned_map_memory(root);
    j["trace"] = trace_json(maps.trace_filter.lookup(0).value_or(fp_trace_filter{}));
    j["problems"] = problems_of(j);
    j["healthy"] = j["problems"].empty();
    return j;
}

void print_status(const nlohmann::json &j)
{
    std::cout << "pin root:   " << j["pin_root"].get<std::string>() << (j["up"] ? " (up)" : " (down)") << "\n";
    if (!j["up"])
        return;
    std::cout << "health:     "
              << (j["healthy"] ? "ok" : std::to_string(j["problems"].size()) + " problem(s)") << "\n";
    for (const auto &p : j["problems"])
        std::cout << "  - " << p.get<std::string>() << "\n";
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
    std::cout << "masquerade: " << m["rules"] << " rules (masq list), ports " << m["ports"][0] << "-" << m["ports"][1];
    if (!m["busiest"]["destination"].get<std::string>().empty())
        std::cout << "; the busiest destination, " << m["busiest"]["destination"].get<std::string>() << ", holds "
                  << m["busiest"]["ports"] << " of them";
    std::cout << "\n";
    const auto &tr = j["trace"];
    std::cout << "trace:      " << tr["state"].get<std::string>()
              << (tr.contains("pid") ? " (pid " + std::to_string(tr["pid"].get<std::uint32_t>()) + ")" : "") << "\n";
    const auto &d = j["daemon"];
    std::cout << "daemon:     " << d["state"].get<std::string>()
              << (d.contains("pid") ? " (pid " + std::to_string(d["pid"].get<unsigned>()) + ")" : "")
              << (d["state"] == "none" ? "" : ", " + d["run_dir"].get<std::string>()) << "\n";
    for (const auto &e : d.value("last_errors", nlohmann::json::array()))
        std::cout << "  " << e.get<std::string>() << "\n";
    std::cout << "tables:     ";
    std::string sep;
    for (const auto &f : j["maps"]) {
        std::cout << sep << f["map"].get<std::string>() << " " << f["entries"] << "/" << f["capacity"]
                  << (f["near_full"] ? " (NEAR FULL)" : "");
        sep = ", ";
    }
    std::cout << "; the maps take " << j["map_memory_bytes"].get<std::uint64_t>() / (1024 * 1024) << " MiB\n\n";
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
    auto *status = app.add_subcommand(
        "status", "whether the datapath is healthy, in one screen: the programs, the interfaces they are attached to "
                  "(and whether the kernel still has them), the host socket hooks, how full each table is (a warning "
                  "from 80%) and the kernel memory the maps take, the masquerade ports of the busiest destination, who traces, whether the daemon runs and "
                  "its last warnings and errors; exits 3 when it lists a problem");
    auto json = std::make_shared<bool>(false);
    auto run_dir = std::make_shared<std::string>("/run/flatpath");
    status->add_flag("--json", *json, "print JSON");
    status->add_option("--run-dir", *run_dir, "the daemon's run directory: whether it runs, and its last warnings and errors")
        ->envname("FLATPATH_RUN_DIR")
        ->capture_default_str();
    status->callback([&ctx, json, run_dir] {
        const nlohmann::json j = status_json(ctx, *run_dir);
        if (*json)
            std::cout << j.dump(2) << "\n";
        else
            print_status(j);
        if (j.value("healthy", true) == false)
            throw CLI::RuntimeError(3);
    });
}

} // namespace fp

#include "control_plane.hpp"

#include <arpa/inet.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "background_process.hpp"
#include "cni_exec.hpp"
#include "command.hpp"
#include "dnat_table.hpp"
#include "endpoints.hpp"
#include "error.hpp"
#include "results.hpp"
#include "fillers.hpp"
#include "mark_rules.hpp"
#include "table_sizes.hpp"
#include "http_transport.hpp"
#include "netns_scope.hpp"
#include "rulesets.hpp"
#include "scripted_runtime.hpp"
#include "topology.hpp"

namespace fp::bench {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::uint16_t kUpdatePort = 40000; // not among the bench's or the fillers' ports
constexpr const char *kCniPluginDir = "/usr/lib/cni";

template <class Fn>
double elapsed_us(Fn fn)
{
    const auto start = Clock::now();
    fn();
    return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// Per series, the times of its add and of its remove operations (in the metrics' unit).
using AddDelTimes = std::map<std::string, std::pair<std::vector<double>, std::vector<double>>>;

// One sample per series and metric: the median of its operations.
std::vector<Sample> medians_of(const AddDelTimes &times, const Metric &add, const Metric &del, std::uint32_t n, int run)
{
    std::vector<Sample> out;
    for (const auto &[series, t] : times) {
        out.push_back({add.id, series, n, run, median(t.first), ""});
        out.push_back({del.id, series, n, run, median(t.second), ""});
    }
    return out;
}

// A temporary directory under /run for plugin state, removed with the object.
struct ScratchDir {
    std::string path;
    ScratchDir()
    {
        char tmpl[] = "/run/flatpath-bench-cni.XXXXXX";
        if (!::mkdtemp(tmpl))
            throw_errno("create a scratch directory under /run", errno);
        path = tmpl;
    }
    ~ScratchDir() { std::filesystem::remove_all(path); }
};

constexpr int kMetricsPort = 9465;

// A sample's value on the daemon's metrics page (from inside its namespace), nullopt
// while the page does not answer or lacks it.
std::optional<double> daemon_metric(const std::string &name)
{
    HttpRequest req;
    req.url = "http://127.0.0.1:" + std::to_string(kMetricsPort) + "/metrics";
    req.connect_timeout_s = req.timeout_s = 2;
    req.what = "the daemon's metrics";
    std::string page;
    try {
        if (http_perform(req, page).status != 200)
            return std::nullopt;
    } catch (const Error &) {
        return std::nullopt;
    }
    const std::size_t at = page.find("\n" + name + " ");
    if (at == std::string::npos)
        return std::nullopt;
    return std::stod(page.substr(at + name.size() + 2));
}

// The last lines of a log file, for an error message.
std::string tail_of(const std::string &path)
{
    std::ifstream in(path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    std::string out;
    for (std::size_t i = lines.size() > 5 ? lines.size() - 5 : 0; i < lines.size(); ++i)
        out += "\n  " + lines[i];
    return out;
}

// Running container i: labelled to publish host port 20000 + i, at its address.
nlohmann::json labelled_container(std::uint32_t i, const IpAddr &addr, const MacAddr &mac)
{
    char id[65];
    std::snprintf(id, sizeof id, "%08x%056x", i + 1, 0u);
    return {{"Id", id},
            {"Name", "ctr" + std::to_string(i)},
            {"State", {{"Running", true}, {"Pid", 0}}},
            {"Config", {{"Labels", {{"network.enable", "true"}, {"network.dnat.ports", std::to_string(20000 + i)}}}}},
            {"NetworkSettings", {{"Networks", {{"podman", {{"IPAddress", addr.str()}, {"MacAddress", mac.str()}}}}}}}};
}

nlohmann::json port_mappings(std::uint16_t host_port)
{
    return nlohmann::json::array({{{"hostPort", host_port}, {"containerPort", 80}, {"protocol", "tcp"}}});
}

// A CNI network: how to add and delete one container on it, publishing host_port.
struct CniNetwork {
    std::string series;
    std::function<nlohmann::json(const std::map<std::string, std::string> &env, std::uint16_t host_port)> add;
    std::function<void(const std::map<std::string, std::string> &env, const nlohmann::json &added,
                       std::uint16_t host_port)>
        del;
};

CniNetwork flatpath_network(const BenchBinaries &bins, const std::string &pin_root, const std::string &state,
                            const std::string &subnet)
{
    const nlohmann::json conf = {{"cniVersion", "1.0.0"}, {"name", "fpbench"}, {"type", "flatpath-cni"},
                                 {"subnet", subnet},      {"pinRoot", pin_root}, {"stateDir", state}};
    const auto with_ports = [conf](std::uint16_t host_port) {
        nlohmann::json c = conf;
        c["runtimeConfig"] = {{"portMappings", port_mappings(host_port)}};
        return c;
    };
    return {"flatpath-cni",
            [=](const auto &env, std::uint16_t port) { return run_cni_plugin(bins.flatpath_cni, env, with_ports(port)); },
            [=](const auto &env, const nlohmann::json &, std::uint16_t port) {
                run_cni_plugin(bins.flatpath_cni, env, with_ports(port));
            }};
}

// Podman's default network with the CNI backend: bridge (gateway, masquerade, host-local
// addresses), then portmap with the previous result.
CniNetwork bridge_portmap_network(const std::string &state, const std::string &subnet)
{
    const nlohmann::json bridge = {{"cniVersion", "1.0.0"},
                                   {"name", "fpbench"},
                                   {"type", "bridge"},
                                   {"bridge", "cni-bench0"},
                                   {"isGateway", true},
                                   {"ipMasq", true},
                                   {"hairpinMode", true},
                                   {"ipam",
                                    {{"type", "host-local"},
                                     {"ranges", {{{{"subnet", subnet}}}}},
                                     {"dataDir", state + "/host-local"}}}};
    const nlohmann::json portmap = {{"cniVersion", "1.0.0"},
                                    {"name", "fpbench"},
                                    {"type", "portmap"},
                                    {"capabilities", {{"portMappings", true}}},
                                    {"snat", true}};
    const auto portmap_for = [portmap](std::uint16_t host_port, const nlohmann::json &prev) {
        nlohmann::json pm = portmap;
        pm["runtimeConfig"] = {{"portMappings", port_mappings(host_port)}};
        pm["prevResult"] = prev;
        return pm;
    };
    const std::string dir = kCniPluginDir;
    return {"bridge+portmap",
            [=](const auto &env, std::uint16_t port) {
                return run_cni_plugin(dir + "/portmap", env, portmap_for(port, run_cni_plugin(dir + "/bridge", env, bridge)));
            },
            [=](const auto &env, const nlohmann::json &added, std::uint16_t port) {
                nlohmann::json br = bridge;
                br["prevResult"] = added;
                run_cni_plugin(dir + "/portmap", env, portmap_for(port, added));
                run_cni_plugin(dir + "/bridge", env, br);
            }};
}

// The environment of a CNI call for container `id` in namespace ns.
std::map<std::string, std::string> cni_env(const std::string &command, const std::string &id, const std::string &ns)
{
    return {{"CNI_COMMAND", command}, {"CNI_CONTAINERID", id}, {"CNI_NETNS", "/run/netns/" + ns},
            {"CNI_IFNAME", "eth0"},   {"CNI_PATH", kCniPluginDir}};
}

} // namespace

std::vector<Sample> measure_daemon_reconcile(const BenchBinaries &bins, int run, std::uint32_t containers)
{
    if (containers == 0 || containers > 40000)
        throw Error("the reconcile bench takes 1 to 40000 containers (host ports 20000 up)");
    Lab lab("r");
    const std::string host = lab.add_netns("host");
    const ScratchDir dir;
    const Container ctr = add_routed_container(lab, host, "c1", 1, {});
    NetnsScope in_host(host);
    run_checked({bins.flatpath, "--pin-root", lab.pin_root(), "up"});
    EndpointSpec spec{{}, ctr.host_if, ctr.mac, 0};
    ScriptedRuntime runtime(dir.path + "/podman.sock", ScriptedRuntime::Dialect::Podman);
    for (std::uint32_t i = 0; i < containers; ++i) {
        const IpAddr addr = IpAddr::parse("10.92." + std::to_string(i >> 8 & 0xff) + "." + std::to_string(i & 0xff));
        spec.addrs.push_back(addr);
        runtime.set_container(labelled_container(i, addr, ctr.mac));
    }
    {
        const PinRoot root(lab.pin_root());
        MapSet maps = MapSet::open_pinned(root.path());
        Endpoints(root, maps).add(spec); // the CNI plugin's work, done before the daemon starts
    }
    const std::vector<std::string> argv = {bins.flatpath, "--pin-root", lab.pin_root(), "daemon", "--run-dir",
                                           dir.path + "/run", "--runtime-api", dir.path + "/podman.sock",
                                           "--metrics-listen", "127.0.0.1:" + std::to_string(kMetricsPort)};
    const std::string log = dir.path + "/daemon.log";
    std::vector<Sample> out;
    for (const char *series : {"first start (maps empty)", "restart (entries in place)"}) {
        BackgroundProcess daemon(argv, log);
        const auto deadline = Clock::now() + std::chrono::seconds(60);
        while (daemon_metric("flatpath_daemon_resyncs_total").value_or(0) < 1) {
            if (!daemon.running() || Clock::now() > deadline)
                throw Error("the daemon did not reconcile within a minute; its log ends:" + tail_of(log));
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        const double managed = daemon_metric("flatpath_daemon_managed_containers").value_or(0);
        if (managed != containers)
            throw Error("the daemon manages " + std::to_string(static_cast<int>(managed)) +
                        " containers after its reconcile, not " + std::to_string(containers) + "; its log ends:" +
                        tail_of(log));
        out.push_back({kDaemonReconcile.id, series, containers, run,
                       daemon_metric("flatpath_daemon_last_resync_seconds").value_or(0) * 1000, ""});
        daemon.stop(SIGTERM);
    }
    return out;
}

std::vector<Sample> measure_updates(Testbed &tb, const BenchBinaries &bins, int run, int repeats)
{
    AddDelTimes times;
    const std::string port = std::to_string(kUpdatePort);
    const auto pair_of = [&](const std::string &series, const std::function<void()> &add, const std::function<void()> &del) {
        times[series].first.push_back(elapsed_us(add));
        times[series].second.push_back(elapsed_us(del));
    };
    NetnsScope in_host(tb.host_ns());
    if (tb.config() == Config::B1) {
        const std::vector<std::string> rule = {"CNI-HOSTPORT-DNAT", "-p", "tcp", "--dport", port, "-j", "DNAT",
                                               "--to-destination", tb.container_addr().str() + ":" + port};
        std::vector<std::string> add = {"iptables", "-t", "nat", "-A"}, del = {"iptables", "-t", "nat", "-D"};
        add.insert(add.end(), rule.begin(), rule.end());
        del.insert(del.end(), rule.begin(), rule.end());
        for (int i = 0; i < repeats; ++i)
            pair_of("iptables", [&] { run_checked(add); }, [&] { run_checked(del); });
    } else {
        const PinRoot root(tb.lab().pin_root());
        MapSet maps = MapSet::open_pinned(root.path());
        DnatTable dnat(root, maps);
        const PortRange ports{kUpdatePort, kUpdatePort};
        const std::vector<std::string> add = {bins.flatpath, "--pin-root", root.path(), "dnat", "add", "tcp", port,
                                              tb.container_addr().str() + ":" + port};
        const std::vector<std::string> del = {bins.flatpath, "--pin-root", root.path(), "dnat", "del", "tcp", port};
        for (int i = 0; i < repeats; ++i) {
            pair_of("flatpath API", [&] { dnat.add(DnatRule{tb.target(), 6, ports, tb.container_addr(), ports}); },
                    [&] { dnat.remove(tb.target(), 6, ports); });
            pair_of("flatpath CLI", [&] { run_checked(add); }, [&] { run_checked(del); });
        }
    }
    return medians_of(times, kUpdateAdd, kUpdateDel, tb.entries(), run);
}

std::vector<Sample> measure_tables_at_scale(const BenchBinaries &bins, int run, int repeats, std::uint32_t n)
{
    Lab lab("s");
    const std::string host = lab.add_netns("host");
    const Container fillers = add_routed_container(lab, host, "c1", 1, {});
    const Container timed = add_routed_container(lab, host, "c2", 2, {});
    NetnsScope in_host(host);
    const TableSizes sizes = filler_table_sizes(n);
    run_checked({bins.flatpath, "--pin-root", lab.pin_root(), "up", "--max-endpoints", std::to_string(sizes.endpoints),
                 "--max-ports", std::to_string(sizes.ports), "--max-marks", std::to_string(sizes.marks), "--max-flows",
                 std::to_string(sizes.flows)});
    const PinRoot root(lab.pin_root());
    MapSet maps = MapSet::open_pinned(root.path());
    Endpoints endpoints(root, maps);
    EndpointSpec filler_spec{{}, fillers.host_if, fillers.mac, 0};
    std::vector<DnatRule> ports;
    std::vector<MarkRule> marks;
    for (std::uint32_t i = 0; i + 1 < n; ++i) { // the timed endpoint is the n-th
        const IpAddr addr = filler_addr(i);
        const fp_dnat_key key = filler_dnat_key(i);
        const std::uint16_t port = ntohs(key.port);
        filler_spec.addrs.push_back(addr);
        ports.push_back(DnatRule{IpAddr::from_raw(key.addr), 6, {port, port}, addr, {80, 80}});
        marks.push_back(MarkRule{addr, 6, 80, FP_MARK_SOURCE, {kFillerMark, kBenchMarkMask}});
    }
    if (!filler_spec.addrs.empty())
        endpoints.add(filler_spec);
    DnatTable dnat(root, maps);
    dnat.add_all(ports);
    MarkRules(root, maps).add_all(marks);
    fill_flows(maps, n * kFlowsPerEntry);
    endpoints.add(EndpointSpec{{timed.v4}, timed.host_if, timed.mac, 0});

    AddDelTimes endpoint_times, port_times;
    const IpAddr extra = IpAddr::parse("10.91.0.200"); // a second address of the timed endpoint
    const IpAddr host_addr = IpAddr::parse("10.90.0.1");
    const PortRange published{kUpdatePort, kUpdatePort};
    for (int i = 0; i < repeats; ++i) {
        endpoint_times["flatpath API"].first.push_back(
            elapsed_us([&] { endpoints.add(EndpointSpec{{extra}, timed.host_if, timed.mac, 0}); }));
        endpoint_times["flatpath API"].second.push_back(elapsed_us([&] { endpoints.remove(extra); }));
        port_times["flatpath API"].first.push_back(
            elapsed_us([&] { dnat.add(DnatRule{host_addr, 6, published, timed.v4, published}); }));
        port_times["flatpath API"].second.push_back(elapsed_us([&] { dnat.remove(host_addr, 6, published); }));
    }
    std::vector<Sample> out = medians_of(endpoint_times, kEndpointAdd, kEndpointDel, n, run);
    // A container that had translated flows: its removal reads conntrack whole (once).
    endpoints.add(EndpointSpec{{extra}, timed.host_if, timed.mac, 0});
    fp_endpoint had = *maps.endpoints.lookup(endpoint_key(extra));
    had.flags |= FP_EP_HAD_FLOWS; // as the datapath sets it when it writes a flow
    maps.endpoints.upsert(endpoint_key(extra), had);
    out.push_back({kEndpointDel.id, "flatpath API, it had flows", n, run,
                   elapsed_us([&] { endpoints.remove(extra); }), ""});
    if (n > 10000) // the F-tc testbed measures published ports at the smaller N
        for (const Sample &s : medians_of(port_times, kUpdateAdd, kUpdateDel, n, run))
            out.push_back(s);
    out.push_back({kMapMemory.id, "flatpath maps", n, run, static_cast<double>(pinned_map_memory(root)) / (1 << 20), ""});
    run_checked({bins.flatpath, "--pin-root", lab.pin_root(), "down"});
    return out;
}

std::vector<Sample> measure_bulk_load(std::uint32_t n, const BenchBinaries &bins, int run)
{
    Lab lab("l");
    const std::string host = lab.add_netns("host");
    const IpAddr host_addr = IpAddr::parse("10.90.0.1");
    const auto containers = bench_containers(IpAddr::parse("10.88.0.2"), {}, n, "10.88");
    std::vector<Sample> out;
    {
        NetnsScope in_host(host);
        const std::string rules = portmap_nat_rules(containers, "10.88.0.0/16") + mangle_mark_rules(containers);
        const double us = elapsed_us([&] { run_checked({"iptables-restore"}, &rules); });
        out.push_back({kBulkLoad.id, "iptables-restore", n, run, us / 1000, ""});

        run_checked({bins.flatpath, "--pin-root", lab.pin_root(), "up"});
        const PinRoot root(lab.pin_root());
        MapSet maps = MapSet::open_pinned(root.path());
        const double fp_us = elapsed_us([&] { load_flatpath_entries(root, maps, host_addr, containers); });
        out.push_back({kBulkLoad.id, "flatpath API", n, run, fp_us / 1000, ""});
        run_checked({bins.flatpath, "--pin-root", lab.pin_root(), "down"});
    }
    return out;
}

std::vector<Sample> measure_cni(const BenchBinaries &bins, int run, int repeats)
{
    Lab lab("c");
    const std::string host = lab.add_netns("host");
    const ScratchDir state;
    const std::vector<CniNetwork> networks = {
        flatpath_network(bins, lab.pin_root(), state.path + "/flatpath", "10.77.0.0/24"),
        bridge_portmap_network(state.path, "10.78.0.0/24")};
    AddDelTimes times;
    NetnsScope in_host(host);
    run_checked({"sysctl", "-qw", "net.ipv4.ip_forward=1"});
    // Round 0 warms up (flatpath-cni brings the datapath up on its first ADD; the bridge
    // plugin creates its bridge): not counted.
    for (int i = 0; i <= repeats; ++i) {
        for (const CniNetwork &net : networks) { // alternating, like the configurations
            const std::string id = "bench" + std::to_string(run) + "x" + std::to_string(i) + net.series.substr(0, 1);
            const std::string ns = lab.add_netns("k" + std::to_string(i) + net.series.substr(0, 1));
            nlohmann::json added;
            const double add_us = elapsed_us([&] { added = net.add(cni_env("ADD", id, ns), 8080); });
            const double del_us = elapsed_us([&] { net.del(cni_env("DEL", id, ns), added, 8080); });
            if (i > 0) {
                times[net.series].first.push_back(add_us / 1000);
                times[net.series].second.push_back(del_us / 1000);
            }
        }
    }
    return medians_of(times, kCniAdd, kCniDel, 1, run);
}

std::vector<Sample> measure_cni_at_scale(const BenchBinaries &bins, int run, std::uint32_t containers, int probes)
{
    if (containers == 0 || containers > 4000)
        throw Error("the CNI bench at scale takes 1 to 4000 containers (a /20 each network)");
    Lab lab("a");
    const ScratchDir state;
    const std::vector<CniNetwork> networks = {
        flatpath_network(bins, lab.pin_root(), state.path + "/flatpath", "10.72.0.0/20"),
        bridge_portmap_network(state.path, "10.76.0.0/20")};
    std::vector<Sample> out;
    for (const CniNetwork &net : networks) {
        const std::string tag = net.series.substr(0, 1);
        const NetnsScope in_host(lab.add_netns("host" + tag)); // a host of its own
        run_checked({"sysctl", "-qw", "net.ipv4.ip_forward=1"});
        // `containers` attached and left there, each publishing a port of its own.
        for (std::uint32_t i = 0; i < containers; ++i) {
            const std::string ns = lab.add_netns(tag + std::to_string(i));
            net.add(cni_env("ADD", tag + "held" + std::to_string(i), ns), static_cast<std::uint16_t>(20000 + i));
        }
        // Then containers come and go beside them: each ADD timed, each DEL undoing it.
        std::vector<double> adds;
        for (int i = 0; i < probes; ++i) {
            const std::string ns = lab.add_netns(tag + "p" + std::to_string(i));
            const std::string id = tag + "probe" + std::to_string(i);
            nlohmann::json added;
            adds.push_back(elapsed_us([&] { added = net.add(cni_env("ADD", id, ns), 8080); }) / 1000);
            net.del(cni_env("DEL", id, ns), added, 8080);
        }
        out.push_back({kCniAddAtScale.id, net.series + " p50", containers, run, percentile(adds, 0.5), ""});
        out.push_back({kCniAddAtScale.id, net.series + " p99", containers, run, percentile(adds, 0.99), ""});
    }
    return out;
}

} // namespace fp::bench

// flatpath-bench: flatpath side by side with a direct veth pair (B0), the floor of its
// own path (B-min), a hand-built imitation of Podman's bridge + iptables network (B1)
// and real Podman networks (P-cni, P-netavark, P-flatpath), every figure the median of several runs
// with the configurations alternating inside each run, so that ratios hold on a
// noisy shared machine. See README "Results" for what each metric means.
#include <CLI/CLI.hpp>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "control_plane.hpp"
#include "error.hpp"
#include "fillers.hpp"
#include "lab.hpp"
#include "netns_scope.hpp"
#include "packet_rate.hpp"
#include "program_cost.hpp"
#include "programs.hpp"
#include "run_time.hpp"
#include "report.hpp"
#include "rx_sink.hpp"
#include "testbed.hpp"
#include "traffic_metrics.hpp"
#include "cluster_bed.hpp"
#include "tuntap.hpp"

namespace fp::bench {
namespace {

struct Options {
    bool smoke = false;
    std::string out = "bench/results";
    int runs = 5;
    std::vector<std::uint32_t> entries = {1, 100, 1000, 10000};
    double seconds = 3;  // per network measurement
    std::uint64_t flood_flows = 3'000'000; // new flows of the conntrack flood
    int repeats = 5;     // control-plane operations per sample
    std::uint32_t containers = 1000; // running containers of the daemon's reconcile
    std::uint32_t scale = 100'000;   // endpoints, published ports and mark rules of the tables at scale
    std::uint32_t cni_containers = 1000; // containers attached when CNI ADD is timed at scale
    int cni_probes = 100;                // ADDs timed there
    std::vector<std::string> configs; // empty: all
    std::string report_only;          // a results directory to render again
    bool cost_only = false;           // the programs' cost per packet alone
    CostOptions cost;
};

// "[12/85] run 1/5, N=100, F-tc: TCP throughput" on one line that rewrites itself.
class Progress {
public:
    explicit Progress(int total) : total_(total) {}
    void step() { ++done_; }
    void say(const std::string &what) const
    {
        std::fprintf(stderr, "\r\033[K[%d/%d] %s", done_ + 1, total_, what.c_str());
        std::fflush(stderr);
    }
    void clear() const { std::fprintf(stderr, "\r\033[K"); }

private:
    int total_, done_ = 0;
};

std::string about_this_run(const Options &o)
{
    utsname u{};
    ::uname(&u);
    std::string cpu = "unknown CPU";
    std::ifstream info("/proc/cpuinfo");
    for (std::string line; std::getline(info, line);)
        if (line.rfind("model name", 0) == 0) {
            cpu = line.substr(line.find(':') + 2);
            break;
        }
    char date[32];
    const std::time_t now = std::time(nullptr);
    std::strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
    char seconds[16];
    std::snprintf(seconds, sizeof seconds, "%g", o.seconds);
    std::string ns;
    for (std::uint32_t n : o.entries)
        ns += (ns.empty() ? "" : ", ") + std::to_string(n);
    return "## flatpath-bench " + std::string(o.smoke ? "(smoke: one short run, not a result)" : "") + "\n\n" + date +
           "; kernel " + u.release + "; " + std::to_string(::sysconf(_SC_NPROCESSORS_ONLN)) + " x " + cpu + "; " +
           std::to_string(o.runs) + " runs; N = " + ns + "; " + seconds + " s per network measurement.\n";
}

// The flood's way in: the uplink's tc and XDP programs, flatpath's or (B-min) the floor's.
struct UplinkPrograms {
    ProgFd tc, xdp;
    std::string tc_name, xdp_name;
};

UplinkPrograms uplink_programs(Testbed &tb)
{
    if (const FloorPath *floor = tb.floor())
        return {ProgFd(::dup(floor->inbound_tc())), ProgFd(::dup(floor->inbound_xdp())), "floor_tc", "floor_xdp"};
    const PinRoot root(tb.lab().pin_root());
    return {ProgFd::open_pinned(root, Program::TcUplink), ProgFd::open_pinned(root, Program::XdpUplink), "from_uplink",
            "xdp_uplink"};
}

// F-xdp and B-min: their XDP programs are also fed by live-frames test runs.
bool has_live_frames(Config c)
{
    return c == Config::FXdp || c == Config::BMin;
}

// kFloodRunTime: the uplink program's own time per packet in an AF_PACKET flood (the one
// that ran: the XDP program where XDP is attached, else the tc one; F-xdp in auto mode on
// a veth is tc only) and, for F-xdp and B-min, the XDP program's in a live-frames flood.
std::vector<Sample> flood_run_time(Testbed &tb, const RxSink &sink, double seconds, int run)
{
    const UplinkPrograms p = uplink_programs(tb);
    const std::string config = config_name(tb.config());
    const RunTimeStats stats;
    std::vector<Sample> out;
    const auto xdp_before = RunTimeStats::of(p.xdp.get()), tc_before = RunTimeStats::of(p.tc.get());
    measure_packet_rate(flood_path_of(tb), sink, seconds);
    const auto xdp_after = RunTimeStats::of(p.xdp.get()), tc_after = RunTimeStats::of(p.tc.get());
    if (xdp_after.runs > xdp_before.runs)
        out.push_back({kFloodRunTime.id, config + " " + p.xdp_name, tb.entries(), run,
                       RunTimeStats::per_run(xdp_before, xdp_after), ""});
    else
        out.push_back({kFloodRunTime.id, config + " " + p.tc_name, tb.entries(), run,
                       RunTimeStats::per_run(tc_before, tc_after), ""});
    if (has_live_frames(tb.config())) {
        const auto before = RunTimeStats::of(p.xdp.get());
        measure_live_frames_rate(tb, p.xdp.get(), seconds);
        out.push_back({kFloodRunTime.id, config + " " + p.xdp_name + " (live frames)", tb.entries(), run,
                       RunTimeStats::per_run(before, RunTimeStats::of(p.xdp.get())), ""});
    }
    return out;
}

// Every metric for one configuration at one N, on a testbed built for it alone.
void measure_config(Config config, std::uint32_t n, int run, const Options &o, const BenchBinaries &bins,
                    Results &results, const std::function<void(const std::string &)> &say)
{
    const std::string name = config_name(config);
    say("building");
    Testbed tb(config, n, bins);
    if (config == Config::B1 || config == Config::FTc) {
        // First, while conntrack is empty: removing a published port also purges its
        // flows, which takes time in proportion to the flows in the table.
        say("control plane: one entry added and removed");
        results.add(measure_updates(tb, bins, run, o.repeats));
    }
    say("TCP throughput");
    results.add({kTcpThroughput.id, name, n, run, iperf_gbits(tb.container_ns(), tb.client_ns(), tb.target(), o.seconds), ""});
    say("request/response latency");
    const Latency lat = sockperf_latency(tb.container_ns(), tb.client_ns(), tb.target(), o.seconds);
    results.add({kLatencyP50.id, name, n, run, lat.p50_us, ""});
    results.add({kLatencyP99.id, name, n, run, lat.p99_us, ""});
    say("connection rate");
    results.add({kConnectRate.id, name, n, run, connect_rate(tb.container_ns(), tb.client_ns(), tb.target(), o.seconds), ""});
    // Out of the container to the client's own address: masqueraded in B1 (the bridge
    // plugin's ipMasq rules) and F (masq), straight in B0.
    say("egress TCP throughput");
    results.add({kEgressThroughput.id, name, n, run,
                 iperf_gbits(tb.client_ns(), tb.container_ns(), tb.client_addr(), o.seconds), ""});
    say("egress connection rate");
    results.add({kEgressConnectRate.id, name, n, run,
                 connect_rate(tb.client_ns(), tb.container_ns(), tb.client_addr(), o.seconds), ""});
    if (!tb.neighbour_ns().empty()) {
        say("container -> container TCP throughput");
        results.add({kNeighbourThroughput.id, name, n, run,
                     iperf_gbits(tb.container_ns(), tb.neighbour_ns(), tb.container_addr(), o.seconds), ""});
        say("container -> container latency");
        results.add({kNeighbourLatencyP50.id, name, n, run,
                     sockperf_latency(tb.container_ns(), tb.neighbour_ns(), tb.container_addr(), o.seconds).p50_us, ""});
    }
    if (tb.publishes_ports()) {
        // The host's own programs to 127.0.0.1: portmap's OUTPUT DNAT in B1, the socket
        // hooks in F.
        const IpAddr loopback = IpAddr::parse("127.0.0.1");
        say("host -> 127.0.0.1 connection rate");
        results.add({kLocalConnectRate.id, name, n, run, connect_rate(tb.container_ns(), tb.host_ns(), loopback, o.seconds), ""});
        say("host -> 127.0.0.1 latency");
        results.add({kLocalLatencyP50.id, name, n, run,
                     sockperf_latency(tb.container_ns(), tb.host_ns(), loopback, o.seconds).p50_us, ""});
    }
    // Last: it switches offloads and the receive path for the packet-rate runs.
    say("packet rate");
    const RxSink sink(tb.container_ns(), "eth0", kFloodPort, RxSink::Hook::TcIngress);
    prepare_receive_path(tb.lab(), flood_path_of(tb));
    const PacketRate rate = measure_packet_rate(flood_path_of(tb), sink, o.seconds);
    const std::string note = rate.generator_bound ? "generator-bound (the datapath's CPU was busy less than 90%)" : "";
    results.add({kPacketRate.id, name, n, run, rate.delivered_pps / 1e6, note});
    results.add({kCpuPerMpkt.id, name, n, run, rate.cpu_s_per_mpkt * 1000, ""});
    if (has_live_frames(config)) {
        say("packet rate, live frames");
        const PacketRate live = measure_live_frames_rate(tb, uplink_programs(tb).xdp.get(), o.seconds);
        results.add({kLiveFramesRate.id, name, n, run, live.delivered_pps / 1e6, ""});
    }
    if (is_flatpath(config) || tb.floor()) {
        // Separate floods: the statistics cost each run two clock reads, which the rates
        // above must not pay.
        say("program run time in the flood");
        results.add(flood_run_time(tb, sink, o.seconds / 2, run));
    }
}

int run_bench(const Options &o)
{
    if (::geteuid() != 0)
        throw Error("flatpath-bench builds namespaces and loads BPF programs: run it as root");
    const BenchBinaries bins{FLATPATH_BIN, FLATPATH_CNI_BIN};
    std::vector<Config> configs;
    for (Config c : {Config::B0, Config::BMin, Config::B1, Config::FTc, Config::FXdp, Config::PCni, Config::PNetavark,
                     Config::PFlatpath})
        if (o.configs.empty() || std::find(o.configs.begin(), o.configs.end(), config_name(c)) != o.configs.end())
            configs.push_back(c);
    const int podman = static_cast<int>(std::count_if(configs.begin(), configs.end(), is_podman));
    const bool tuntap = o.configs.empty() || std::find(o.configs.begin(), o.configs.end(), "tuntap") != o.configs.end();
    const bool cluster = o.configs.empty() || std::find(o.configs.begin(), o.configs.end(), "cluster") != o.configs.end();
    const int per_n = static_cast<int>(configs.size()) - podman + 1; // + the bulk load
    // Written first, so that a run's tables can be made again from its samples (--report).
    const std::string about = about_this_run(o);
    std::filesystem::create_directories(o.out);
    std::ofstream(o.out + "/about.md") << about;
    const int floods = static_cast<int>(std::count_if(configs.begin(), configs.end(),
                                                       [](Config c) { return c == Config::B1 || c == Config::FTc; }));
    const int beds = (tuntap ? static_cast<int>(kAllTunTapBeds.size()) : 0) +
                     (cluster ? static_cast<int>(kAllClusterBeds.size()) : 0);
    Progress progress(o.cost_only ? 1 : o.runs * (static_cast<int>(o.entries.size()) * per_n + podman + floods + beds + 5) + 1);
    Results results;
    // After every step the samples so far are on disk: a run that fails or is stopped late
    // still leaves what it measured (render it with --report).
    const auto step_done = [&] {
        progress.step();
        results.write_csv(o.out + "/samples.csv");
    };
    for (int run = 1; !o.cost_only && run <= o.runs; ++run) {
        for (std::uint32_t n : o.entries) {
            const std::string where = "run " + std::to_string(run) + "/" + std::to_string(o.runs) + ", N=" + std::to_string(n);
            for (Config c : configs) { // alternating: B0, B-min, B1, F-tc, F-xdp, (P-...,) B0, ...
                // Podman's networks once per run (as N = 1): they have no filler entries.
                if (is_podman(c) && n != o.entries.front())
                    continue;
                measure_config(c, is_podman(c) ? 1 : n, run, o, bins, results,
                               [&](const std::string &what) { progress.say(where + ", " + config_name(c) + ": " + what); });
                step_done();
            }
            progress.say(where + ": bulk load");
            results.add(measure_bulk_load(n, bins, run));
            step_done();
        }
        for (Config c : configs) {
            if (c != Config::B1 && c != Config::FTc)
                continue; // conntrack: Linux's and flatpath's (F-xdp is F-tc on a veth uplink)
            progress.say("run " + std::to_string(run) + ", " + config_name(c) + ": conntrack flood");
            Testbed tb(c, 1, bins);
            const FloodOutcome f = conntrack_flood(tb, o.flood_flows);
            results.add({kFloodSurvivors.id, config_name(c), 1, run, static_cast<double>(f.survivors()), ""});
            results.add({kFloodStream.id, config_name(c), 1, run, f.stream_mb_per_second(), ""});
            results.add({kFloodRate.id, config_name(c), 1, run, f.flows_per_second / 1000, ""});
            step_done();
        }
        for (TunTapBed bed : tuntap ? kAllTunTapBeds : std::vector<TunTapBed>{}) {
            progress.say("run " + std::to_string(run) + ", " + tuntap_name(bed) + ": tun/tap");
            results.add(measure_tuntap(bed, bins, run, o.seconds));
            step_done();
        }
        for (ClusterBed bed : cluster ? kAllClusterBeds : std::vector<ClusterBed>{}) {
            progress.say("run " + std::to_string(run) + ", " + cluster_bed_name(bed) + ": across hosts");
            results.add(measure_cluster(bed, bins, run, o.seconds));
            step_done();
        }
        progress.say("run " + std::to_string(run) + ": CNI ADD and DEL");
        results.add(measure_cni(bins, run, o.repeats));
        step_done();
        progress.say("run " + std::to_string(run) + ": CNI ADD with " + std::to_string(o.cni_containers) +
                     " containers attached");
        results.add(measure_cni_at_scale(bins, run, o.cni_containers, o.cni_probes));
        step_done();
        for (std::uint32_t n : {1u, o.scale}) {
            progress.say("run " + std::to_string(run) + ": the tables with " + std::to_string(n) +
                         " endpoints, ports and marks and " + std::to_string(n * kFlowsPerEntry) + " flows");
            results.add(measure_tables_at_scale(bins, run, o.repeats, n));
            step_done();
        }
        progress.say("run " + std::to_string(run) + ": the daemon's reconcile of " + std::to_string(o.containers) +
                     " containers");
        results.add(measure_daemon_reconcile(bins, run, o.containers));
        step_done();
    }
    {
        Lab lab("p");
        const auto say = [&](const std::string &what) { progress.say(what); };
        {
            const NetnsScope in(lab.add_netns("cost"));
            results.add(measure_program_cost(o.cost, say));
        }
        {
            const NetnsScope in(lab.add_netns("trace")); // devices of the same names as cost's
            results.add(measure_trace_cost(o.cost, say));
        }
        const NetnsScope in(lab.add_netns("policy"));
        results.add(measure_policy_cost(o.cost, say));
    }
    progress.clear();
    std::cout << write_report(results, o.out, about) << "\nresults in " << o.out << "/\n";
    return 0;
}

// Tables and plots again from an earlier run's samples.csv and about.md.
int render_again(const std::string &dir)
{
    std::ifstream about_file(dir + "/about.md");
    const std::string about((std::istreambuf_iterator<char>(about_file)), std::istreambuf_iterator<char>());
    std::cout << write_report(Results::read_csv(dir + "/samples.csv"), dir, about) << "\nresults in " << dir << "/\n";
    return 0;
}

} // namespace
} // namespace fp::bench

int main(int argc, char **argv)
{
    CLI::App app{"flatpath-bench: flatpath against a direct veth pair (B0), the floor of its path (B-min), a bridge + "
                 "iptables network (B1) and Podman's own CNI and netavark networks (P-cni, P-netavark): "
                 "packet rate, TCP throughput, latency, connection rate, conntrack under a SYN flood, program cost and control plane. Results go "
                 "to --out as CSV, markdown and PNG plots."};
    fp::bench::Options o;
    app.add_flag("--smoke", o.smoke, "a short pass over every metric (one run, N=1, short measurements) so the harness cannot rot; "
                                     "the test suite runs it. Its figures are not results.");
    app.add_option("--out", o.out, "directory for the results (created)");
    app.add_option("--runs", o.runs, "runs per figure: the median is reported, with min and max")->check(CLI::Range(1, 100));
    app.add_option("--entries", o.entries, "the N values of the network measurements: published ports and mark rules in place")->check(CLI::Range(1, 20000));
    app.add_option("--seconds", o.seconds, "length of each network measurement")->check(CLI::Range(0.2, 60.0));
    app.add_option("--repeats", o.repeats, "control-plane operations per sample (their median)")->check(CLI::Range(1, 1000));
    app.add_option("--containers", o.containers, "running containers the daemon reconciles (scripted runtime API)")
        ->check(CLI::Range(1, 40000));
    app.add_option("--configs", o.configs,
                   "only these configurations (B0, B-min, B1, F-tc, F-xdp; P-cni, P-netavark, P-flatpath: real Podman "
                   "networks, measured at N=1 once per run; tuntap: the tun/tap beds; cluster: the multi-host beds); "
                   "default all")
        ->check(CLI::IsMember({"B0", "B-min", "B1", "F-tc", "F-xdp", "P-cni", "P-netavark", "P-flatpath", "tuntap", "cluster"}));
    app.add_option("--scale", o.scale,
                   "the tables at scale: endpoint addresses, published ports and mark rules in place (with 10 x as many "
                   "flows) when one endpoint and one port are added and removed, and what the maps then take")
        ->check(CLI::Range(2, 1000000))
        ->capture_default_str();
    app.add_option("--cni-containers", o.cni_containers,
                   "containers attached (flatpath-cni, and bridge + portmap) when the ADD of one more is timed")
        ->check(CLI::Range(1, 4000))
        ->capture_default_str();
    app.add_flag("--cost-only", o.cost_only,
                 "measure only the programs' cost per packet (test runs: the program cost, trace and policy tables), "
                 "no network, control plane or scale: a datapath change checked in minutes");
    app.add_option("--report", o.report_only,
                   "measure nothing: make DIR's tables and plots again from its samples.csv and about.md");
    const CLI::Option *flood_flows = app.add_option("--flood-flows", o.flood_flows, "new flows of the conntrack flood (B1 and F-tc, once per run)")
        ->check(CLI::Range(1000, 100000000));
    app.add_option("--calls", o.cost.calls, "program-cost test runs per path and run")->check(CLI::Range(11, 1000000));
    app.add_option("--cost-entries", o.cost.entries,
                   "the N values of the program cost: endpoints, published ports and mark rules in the maps, with "
                   "10 x N tracked flows (100000: a million)")
        ->check(CLI::Range(1, 1000000))
        ->capture_default_str();
    CLI11_PARSE(app, argc, argv);
    o.cost.runs = o.runs;
    if (o.smoke) {
        o.runs = o.cost.runs = 1;
        o.entries = {1};
        o.cost.entries = {1, 100};
        o.seconds = 0.5;
        o.repeats = 2;
        o.containers = 50;
        o.scale = 1000;
        o.cni_containers = 20;
        o.cni_probes = 5;
        o.cost.calls = 201;
        if (!flood_flows->count())
            o.flood_flows = 20'000;
    }
    try {
        if (!o.report_only.empty())
            return fp::bench::render_again(o.report_only);
        return fp::bench::run_bench(o);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "\nflatpath-bench: error: %s\n", e.what());
        return 1;
    }
}

#include "daemon.hpp"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>

#include "cluster_metrics.hpp"
#include "daemon_log.hpp"
#include "command.hpp"
#include "datapath.hpp"
#include "error.hpp"
#include "file_lock.hpp"
#include "housekeeping.hpp"
#include "health_metrics.hpp"
#include "metrics.hpp"
#include "metrics_endpoint.hpp"
#include "runtime_follower.hpp"

namespace fp {

namespace {

std::atomic<bool> g_stop{false};

extern "C" void request_stop(int)
{
    g_stop = true;
}

void install_signal_handlers()
{
    struct sigaction sa{};
    sa.sa_handler = request_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);
}

// One daemon per run directory (a second one would fight the first over the maps): the
// lock on its daemon.lock, which says the holder's pid.
FileLock instance_lock(const std::string &run_dir)
{
    std::error_code ec;
    std::filesystem::create_directories(run_dir, ec);
    const std::string path = run_dir + "/daemon.lock";
    std::optional<FileLock> lock = FileLock::try_on_file(path, 0644);
    if (!lock)
        throw Error("another flatpath daemon is running (it holds " + path + ")");
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(lock->fd(), 0) != 0 || ::write(lock->fd(), pid.data(), pid.size()) < 0)
        spdlog::warn("cannot write the pid to {}", path);
    return std::move(*lock);
}

// Runs an operator's script with /bin/sh; throws with its output when it fails.
void run_script(const char *which, const std::string &script)
{
    if (script.empty())
        return;
    spdlog::info("running the {} script: {}", which, script);
    const CommandResult r = run_command({"/bin/sh", "-c", script});
    std::string output = r.output;
    while (!output.empty() && output.back() == '\n')
        output.pop_back();
    if (r.status != 0)
        throw Error(std::string(which) + " script '" + script + "' failed with exit status " + std::to_string(r.status) +
                    (output.empty() ? "" : ":\n" + output));
    if (!output.empty())
        spdlog::info("{} script said: {}", which, output);
}

// What --remove-datapath-on-exit takes down: the daemon's entries always; the whole
// datapath only when nothing else (the CNI plugin, an operator) still uses it.
void take_down(const PinRoot &root, MapSet &maps, RuntimeFollower &follower, bool cluster)
{
    follower.remove_all();
    if (cluster)
        ClusterTable(root, maps).clear(); // the peers' subnets and their routes
    const bool others = !maps.endpoints.entries().empty() || !maps.dnat.entries().empty() ||
                        !maps.ranges.entries().empty() || !maps.marks.entries().empty();
    if (others) {
        spdlog::warn("the datapath stays up: endpoints or rules that the daemon did not make are still in it");
        return;
    }
    datapath_down(root);
    spdlog::info("datapath removed from {}", root.path());
}

} // namespace

int run_daemon(const PinRoot &root, const DaemonOptions &opts)
{
    require_root();
    if (!opts.cluster.etcd_endpoints.empty())
        check_cluster_options(opts.cluster);
    const FileLock instance = instance_lock(opts.run_dir);
    log_to_file(opts.run_dir);
    std::unique_ptr<MetricsEndpoint> metrics;
    if (!opts.metrics_listen.empty())
        metrics = std::make_unique<MetricsEndpoint>(opts.metrics_listen);
    // Scripts (and the flatpath commands in them) act on this daemon's datapath.
    ::setenv("FLATPATH_PIN_ROOT", root.path().c_str(), 1);
    install_signal_handlers();
    run_script("startup", opts.startup_script);

    for (const std::string &note : datapath_up(root, UpOptions{opts.uplinks, opts.xdp_mode, true}))
        spdlog::info("uplink {}", note);
    MapSet maps = MapSet::open_pinned(root.path());
    const DaemonRecords records(opts.run_dir + "/daemon/containers");
    std::unique_ptr<ClusterMember> cluster;
    if (!opts.cluster.etcd_endpoints.empty()) {
        ClusterOptions cluster_opts = opts.cluster;
        cluster_opts.status_file = opts.run_dir + "/cluster.json";
        cluster = std::make_unique<ClusterMember>(root, maps, cluster_opts, g_stop);
        cluster->start(); // in the background: an etcd out of reach never holds up the local datapath
    }
    RuntimeFollower follower(root, opts, maps, records, g_stop);
    auto housekeeping = std::make_unique<Housekeeping>(root, maps, follower.health(), std::chrono::seconds(5));
    // The collectors read the maps and the follower's health: serving stops before those
    // go, also when the loop throws.
    struct StopServing {
        std::unique_ptr<MetricsEndpoint> &endpoint;
        ~StopServing() { endpoint.reset(); }
    } stop_serving{metrics};
    if (metrics) {
        const DaemonHealth &health = follower.health();
        metrics->add(std::make_shared<DatapathMetrics>(root, maps, [&health] {
            return ConntrackFill{health.ct_entries.load(), health.ct_new_entries.load()};
        }));
        metrics->add(std::make_shared<HealthMetrics>(health));
        if (cluster)
            metrics->add(std::make_shared<ClusterMetrics>(cluster->health()));
        spdlog::info("metrics on {} (port {})", opts.metrics_listen, metrics->port());
    }

    follower.run();

    spdlog::info("stopping");
    metrics.reset();
    cluster.reset();
    housekeeping.reset();
    int status = 0;
    try {
        run_script("shutdown", opts.shutdown_script);
    } catch (const Error &e) {
        spdlog::error("{}", e.what());
        status = 1;
    }
    if (opts.remove_datapath_on_exit)
        take_down(root, maps, follower, !opts.cluster.etcd_endpoints.empty());
    return status;
}

} // namespace fp

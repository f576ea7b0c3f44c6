#include "daemon.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <memory>
#include <set>
#include <thread>

#include "command.hpp"
#include "container_sync.hpp"
#include "daemon_health.hpp"
#include "datapath.hpp"
#include "error.hpp"
#include "housekeeping.hpp"
#include "metrics.hpp"
#include "metrics_server.hpp"
#include "runtime_client.hpp"

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

// One daemon per run directory: a second one would fight the first over the maps.
class InstanceLock {
public:
    explicit InstanceLock(const std::string &run_dir)
    {
        std::error_code ec;
        std::filesystem::create_directories(run_dir, ec);
        const std::string path = run_dir + "/daemon.lock";
        fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd_ < 0)
            throw_errno("open " + path, errno);
        if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
            ::close(fd_);
            throw Error("another flatpath daemon is running (it holds " + path + ")");
        }
        const std::string pid = std::to_string(::getpid()) + "\n";
        if (::ftruncate(fd_, 0) != 0 || ::write(fd_, pid.data(), pid.size()) < 0)
            spdlog::warn("cannot write the pid to {}", path);
    }
    InstanceLock(const InstanceLock &) = delete;
    InstanceLock &operator=(const InstanceLock &) = delete;
    ~InstanceLock() { ::close(fd_); } // the kernel drops the lock with the fd, also after kill -9

private:
    int fd_ = -1;
};

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

// Sleeps up to `d`, waking early for a stop request.
void pause_for(std::chrono::milliseconds d)
{
    const auto until = std::chrono::steady_clock::now() + d;
    while (!g_stop && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

class Daemon {
public:
    Daemon(const PinRoot &root, const DaemonOptions &opts, MapSet &maps, const DaemonRecords &records)
        : root_(root), opts_(opts), maps_(maps), sync_(root, maps, records)
    {
        health_.managed = sync_.managed();
    }

    DaemonHealth &health() { return health_; }

    // Until a stop request: connect, reconcile, follow events; reconnect with backoff.
    void run()
    {
        constexpr std::chrono::milliseconds kFirstBackoff{250}, kMaxBackoff{8000};
        std::chrono::milliseconds backoff = kFirstBackoff;
        while (!g_stop) {
            try {
                const RuntimeClient runtime(find_runtime_socket(opts_.runtime_api));
                health_.connects++;
                spdlog::info("following {}", runtime.describe());
                // Events from just before the listing are replayed: none falls in between.
                const std::time_t since = std::time(nullptr) - 1;
                resync(runtime);
                backoff = kFirstBackoff;
                follow(runtime, since);
                if (g_stop)
                    break;
                spdlog::warn("the event stream of {} ended; reconnecting", runtime.describe());
            } catch (const std::exception &e) {
                health_.connect_failures++;
                spdlog::warn("container runtime: {}; retrying in {} ms", e.what(), backoff.count());
            }
            health_.connected = false;
            pause_for(backoff);
            backoff = std::min(backoff * 2, kMaxBackoff);
        }
    }

    void remove_all() { count(sync_.forget_all()); }

private:
    void count(std::size_t problems)
    {
        health_.problems += problems;
        health_.managed = sync_.managed();
    }

    // The maps against everything that runs now.
    void resync(const RuntimeClient &runtime)
    {
        std::set<std::string> running;
        for (const std::string &id : runtime.running_with_label(opts_.policy.enable_label, "true")) {
            const auto c = runtime.inspect(id);
            if (!c || !c->running || !selected(*c, opts_.policy))
                continue;
            running.insert(c->id);
            count(sync_.apply(*c, plan_container(*c, opts_.policy)));
        }
        count(sync_.forget_all_but(running));
        health_.resyncs++;
        spdlog::info("in step with {}: {} container(s) with entries", runtime.describe(), sync_.managed());
    }

    void update(const RuntimeClient &runtime, const std::string &id)
    {
        const auto c = runtime.inspect(id);
        if (c && c->running && selected(*c, opts_.policy))
            count(sync_.apply(*c, plan_container(*c, opts_.policy)));
        else
            count(sync_.forget(id));
    }

    void on_event(const RuntimeClient &runtime, std::string_view line)
    {
        health_.last_event_unix = std::time(nullptr);
        std::string why;
        const auto e = parse_runtime_event(line, &why);
        if (!e) {
            health_.skipped_lines++;
            spdlog::warn("event stream: skipped a line ({}): {}", why,
                         line.size() > 120 ? std::string(line.substr(0, 120)) + "..." : std::string(line));
            return;
        }
        health_.count(e->kind);
        if (e->container_id.empty())
            return;
        try {
            switch (e->kind) {
            case EventKind::Start:
            case EventKind::NetworkConnect:
            case EventKind::NetworkDisconnect: update(runtime, e->container_id); break;
            case EventKind::Died:
            case EventKind::Removed: count(sync_.forget(e->container_id)); break;
            case EventKind::Other: break;
            }
        } catch (const Error &e2) {
            health_.problems++;
            spdlog::error("container {}: {}", e->container_id.substr(0, 12), e2.what());
        }
    }

    void follow(const RuntimeClient &runtime, std::time_t since)
    {
        health_.connected = true;
        RuntimeApi::FollowOptions opts;
        opts.stop = &g_stop;
        opts.on_oversized = [this] {
            health_.skipped_lines++;
            spdlog::warn("event stream: skipped a line longer than {} bytes", opts_max_line());
        };
        const RuntimeApi::StreamEnd end = runtime.follow_events(
            since,
            [&](std::string_view line) {
                on_event(runtime, line);
                return !g_stop;
            },
            opts);
        if (end.truncated) {
            health_.skipped_lines++;
            spdlog::warn("event stream: skipped {} bytes of a line cut off by the end of the stream", end.truncated);
        }
    }

    static std::size_t opts_max_line() { return RuntimeApi::FollowOptions{}.max_line; }

    const PinRoot &root_;
    const DaemonOptions &opts_;
    MapSet &maps_;
    ContainerSync sync_;
    DaemonHealth health_;
};

// What --remove-datapath-on-exit takes down: the daemon's entries always; the whole
// datapath only when nothing else (the CNI plugin, an operator) still uses it.
void take_down(const PinRoot &root, MapSet &maps, Daemon &daemon)
{
    daemon.remove_all();
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
    InstanceLock instance(opts.run_dir);
    // Scripts (and the flatpath commands in them) act on this daemon's datapath.
    ::setenv("FLATPATH_PIN_ROOT", root.path().c_str(), 1);
    install_signal_handlers();
    run_script("startup", opts.startup_script);

    datapath_up(root, UpOptions{opts.uplinks, opts.xdp_mode, true});
    MapSet maps = MapSet::open_pinned(root.path());
    const DaemonRecords records(opts.run_dir + "/daemon/containers");
    Daemon daemon(root, opts, maps, records);
    auto housekeeping = std::make_unique<Housekeeping>(root, maps, daemon.health(), std::chrono::seconds(5));
    std::unique_ptr<MetricsServer> metrics;
    if (!opts.metrics_listen.empty()) {
        metrics = std::make_unique<MetricsServer>(opts.metrics_listen,
                                                  [&] { return render_metrics(root, maps, &daemon.health()); });
        spdlog::info("metrics on {} (port {})", opts.metrics_listen, metrics->port());
    }

    daemon.run();

    spdlog::info("stopping");
    metrics.reset();
    housekeeping.reset();
    int status = 0;
    try {
        run_script("shutdown", opts.shutdown_script);
    } catch (const Error &e) {
        spdlog::error("{}", e.what());
        status = 1;
    }
    if (opts.remove_datapath_on_exit)
        take_down(root, maps, daemon);
    return status;
}

} // namespace fp

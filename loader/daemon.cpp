#include "daemon.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>

#include "command.hpp"
#include "datapath.hpp"
#include "error.hpp"
#include "housekeeping.hpp"
#include "metrics.hpp"
#include "metrics_server.hpp"
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

// What --remove-datapath-on-exit takes down: the daemon's entries always; the whole
// datapath only when nothing else (the CNI plugin, an operator) still uses it.
void take_down(const PinRoot &root, MapSet &maps, RuntimeFollower &follower)
{
    follower.remove_all();
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

    for (const std::string &note : datapath_up(root, UpOptions{opts.uplinks, opts.xdp_mode, true}))
        spdlog::info("uplink {}", note);
    MapSet maps = MapSet::open_pinned(root.path());
    const DaemonRecords records(opts.run_dir + "/daemon/containers");
    RuntimeFollower follower(root, opts, maps, records, g_stop);
    auto housekeeping = std::make_unique<Housekeeping>(root, maps, follower.health(), std::chrono::seconds(5));
    std::unique_ptr<MetricsServer> metrics;
    if (!opts.metrics_listen.empty()) {
        metrics = std::make_unique<MetricsServer>(opts.metrics_listen,
                                                  [&] { return render_metrics(root, maps, &follower.health()); });
        spdlog::info("metrics on {} (port {})", opts.metrics_listen, metrics->port());
    }

    follower.run();

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
        take_down(root, maps, follower);
    return status;
}

} // namespace fp

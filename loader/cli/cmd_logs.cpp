// logs: the CNI plugin's log and the daemon's, in one view.
#include <CLI/CLI.hpp>

#include <chrono>
#include <iostream>
#include <thread>

#include "commands.hpp"
#include "daemon_log.hpp"
#include "invocation_log.hpp"
#include "log_view.hpp"
#include "containers.hpp"
#include "stop_signals.hpp"

namespace fp {

namespace {

struct LogsOptions {
    bool follow = false;
    std::string since, container;
    RecordDirs dirs;
};

// The daemon's log and, for the plugin, the default state directory and every one a
// flatpath-cni network of the configuration directory names (unless given).
std::vector<LogSource> sources_of(const LogsOptions &o)
{
    std::vector<LogSource> out;
    out.push_back({"daemon", daemon_log_files(o.dirs.run_dir)});
    for (const std::string &d : o.dirs.plugin_state_dirs())
        out.push_back({"cni", {d + "/" + cni::kInvocationLogPrevious, d + "/" + cni::kInvocationLogName}});
    return out;
}

void print(const LogLine &l)
{
    std::cout << (l.time.empty() ? std::string(27, ' ') : l.time) << " " << l.source
              << std::string(l.source.size() < 6 ? 6 - l.source.size() : 0, ' ') << " " << l.text << "\n";
}

void run_logs(const LogsOptions &o)
{
    LogFilter filter;
    filter.container = o.container;
    if (!o.since.empty())
        filter.since_us = parse_since(o.since, now_us());
    const std::vector<LogSource> sources = sources_of(o);
    // Following starts where the files end now: nothing is shown twice or lost between.
    std::unique_ptr<LogFollower> follower = o.follow ? std::make_unique<LogFollower>(sources) : nullptr;
    for (const LogLine &l : read_logs(sources, filter))
        print(l);
    std::cout.flush();
    if (!follower)
        return;
    stop_on_signals();
    while (!stop_requested()) {
        for (const LogLine &l : follower->poll(filter))
            print(l);
        std::cout.flush();
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
}

} // namespace

void add_logs_command(CLI::App &app, CliContext &)
{
    auto o = std::make_shared<LogsOptions>();
    auto *logs = app.add_subcommand(
        "logs", "the CNI plugin's log (one line per ADD, DEL, CHECK: container, interface, outcome) and the daemon's "
                "(what it applied for each container, its connection to the runtime, errors) in one view, in time "
                "order, each line with its source; rotated files included");
    logs->add_flag("-f,--follow", o->follow, "keep printing lines as they are written (Ctrl-C ends it)");
    logs->add_option("--since", o->since, "only lines from this time on: 2026-12-07T09:30:00Z, or an age: 90s, 10m, 2h, 1d");
    logs->add_option("--container", o->container,
                     "only lines about this container: its name (as the runtime passed it) or ID (12 characters or more)");
    o->dirs.add_options(*logs, "daemon.log is", "flatpath-cni.log is");
    logs->callback([o] { run_logs(*o); });
}

} // namespace fp

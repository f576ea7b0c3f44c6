#include "runtime_follower.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "container_plan.hpp"
#include "daemon.hpp"
#include "runtime_client.hpp"
#include "runtime_event.hpp"

namespace fp {

RuntimeFollower::RuntimeFollower(const PinRoot &root, const DaemonOptions &opts, MapSet &maps,
                                 const DaemonRecords &records, const std::atomic<bool> &stop)
    : opts_(opts), stop_(stop), sync_(root, maps, records)
{
    health_.managed = sync_.managed();
}

void RuntimeFollower::run()
{
    constexpr std::chrono::milliseconds kFirstBackoff{250}, kMaxBackoff{8000};
    std::chrono::milliseconds backoff = kFirstBackoff;
    while (!stop_) {
        try {
            const RuntimeClient runtime(find_runtime_socket(opts_.runtime_api));
            health_.connects++;
            spdlog::info("following {}", runtime.describe());
            // Events from just before the listing are replayed: none falls in between.
            const std::time_t since = std::time(nullptr) - 1;
            resync(runtime);
            backoff = kFirstBackoff;
            follow(runtime, since);
            if (stop_)
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

void RuntimeFollower::remove_all()
{
    count(sync_.forget_all());
}

void RuntimeFollower::pause_for(std::chrono::milliseconds d) const
{
    const auto until = std::chrono::steady_clock::now() + d;
    while (!stop_ && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

bool RuntimeFollower::takes(const std::optional<ContainerInfo> &c) const
{
    return c && c->running && selected(*c, opts_.policy);
}

void RuntimeFollower::count(std::size_t problems)
{
    health_.problems += problems;
    health_.managed = sync_.managed();
}

void RuntimeFollower::apply(const ContainerInfo &c)
{
    const std::size_t problems = sync_.apply(c, plan_container(c, opts_.policy));
    count(problems);
    if (problems)
        unsettled_.insert(c.id);
    else
        unsettled_.erase(c.id);
}

void RuntimeFollower::gone(const RuntimeClient &runtime, const std::string &id)
{
    unsettled_.erase(id);
    if (!sync_.managed_has(id))
        return;
    count(sync_.forget(id));
    retry_unsettled(runtime);
}

void RuntimeFollower::retry_unsettled(const RuntimeClient &runtime)
{
    const std::set<std::string> retry = unsettled_;
    for (const std::string &id : retry)
        update(runtime, id);
}

void RuntimeFollower::resync(const RuntimeClient &runtime)
{
    const auto start = std::chrono::steady_clock::now();
    std::vector<ContainerInfo> running;
    std::set<std::string> ids;
    for (const std::string &id : runtime.running_with_label(opts_.policy.enable_label, "true")) {
        auto c = runtime.inspect(id);
        if (takes(c)) {
            ids.insert(c->id);
            running.push_back(std::move(*c));
        }
    }
    // The gone first: a container started meanwhile may have been given a gone one's
    // address, and must not find its entries taken for someone else's, or lose them after.
    count(sync_.forget_all_but(ids));
    unsettled_.clear();
    for (const ContainerInfo &c : running)
        apply(c);
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    health_.last_resync_seconds = took.count();
    health_.resyncs++;
    spdlog::info("in step with {}: {} container(s) with entries ({} running checked in {:.0f} ms)", runtime.describe(),
                 sync_.managed(), running.size(), took.count() * 1000);
}

void RuntimeFollower::update(const RuntimeClient &runtime, const std::string &id)
{
    const auto c = runtime.inspect(id);
    if (takes(c)) {
        apply(*c);
        return;
    }
    gone(runtime, id);
}

void RuntimeFollower::on_event(const RuntimeClient &runtime, std::string_view line)
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
        case EventKind::Removed: gone(runtime, e->container_id); break;
        case EventKind::Other: break;
        }
    } catch (const std::exception &failure) { // one container's answer failed, not the loop
        health_.problems++;
        spdlog::error("container {}: {}", e->container_id.substr(0, 12), failure.what());
    }
}

void RuntimeFollower::follow(const RuntimeClient &runtime, std::time_t since)
{
    health_.connected = true;
    RuntimeApi::FollowOptions opts;
    opts.stop = &stop_;
    opts.on_oversized = [this, max = opts.max_line] {
        health_.skipped_lines++;
        spdlog::warn("event stream: skipped a line longer than {} bytes", max);
    };
    const RuntimeApi::StreamEnd end = runtime.follow_events(
        since,
        [&](std::string_view line) {
            on_event(runtime, line);
            return !stop_;
        },
        opts);
    if (end.truncated) {
        health_.skipped_lines++;
        spdlog::warn("event stream: skipped {} bytes of a line cut off by the end of the stream", end.truncated);
    }
}

} // namespace fp

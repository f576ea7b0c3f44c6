#include "health_metrics.hpp"

#include "metrics.hpp"

namespace fp {

std::vector<prometheus::MetricFamily> HealthMetrics::Collect() const
{
    using prometheus::MetricType;
    const DaemonHealth &h = health_;
    std::vector<prometheus::MetricFamily> out;
    single_sample(out, "flatpath_daemon_runtime_connected", MetricType::Gauge, "1 while the runtime's event stream is open.",
        h.connected ? 1 : 0);
    single_sample(out, "flatpath_daemon_last_event_timestamp_seconds", MetricType::Gauge,
        "When the last event line arrived (Unix time).", static_cast<double>(h.last_event_unix.load()));
    single_sample(out, "flatpath_daemon_connects_total", MetricType::Counter,
        "Connections to the runtime, the first and each reconnect.", static_cast<double>(h.connects.load()));
    single_sample(out, "flatpath_daemon_connect_failures_total", MetricType::Counter, "Attempts to reach the runtime that failed.",
        static_cast<double>(h.connect_failures.load()));
    single_sample(out, "flatpath_daemon_resyncs_total", MetricType::Counter,
        "Full comparisons of the maps with the running containers.", static_cast<double>(h.resyncs.load()));
    single_sample(out, "flatpath_daemon_last_resync_seconds", MetricType::Gauge,
        "How long the last comparison took, from listing the containers to the last entry applied.",
        h.last_resync_seconds.load());

    out.push_back(metric_family("flatpath_daemon_events_total", MetricType::Counter, "Runtime events read, by kind."));
    static const char *kinds[] = {"start", "died", "removed", "network_connect", "network_disconnect", "other"};
    static_assert(std::size(kinds) == std::tuple_size_v<decltype(DaemonHealth::events)>);
    for (std::size_t k = 0; k < h.events.size(); ++k)
        sample(out.back(), {{"kind", kinds[k]}}, static_cast<double>(h.events[k].load()));

    single_sample(out, "flatpath_daemon_skipped_lines_total", MetricType::Counter,
        "Lines of the event stream that were not events (garbage, cut off, or too long): logged and skipped.",
        static_cast<double>(h.skipped_lines.load()));
    single_sample(out, "flatpath_daemon_problems_total", MetricType::Counter,
        "Entries the label policy asked for that could not be applied (each logged).",
        static_cast<double>(h.problems.load()));
    single_sample(out, "flatpath_daemon_managed_containers", MetricType::Gauge, "Containers the daemon has datapath entries for.",
        static_cast<double>(h.managed.load()));
    single_sample(out, "flatpath_daemon_expired_flows_total", MetricType::Counter, "Conntrack entries past their timeout, collected.",
        static_cast<double>(h.expired_flows.load()));
    return out;
}

} // namespace fp

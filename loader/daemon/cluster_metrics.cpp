#include "cluster_metrics.hpp"

#include <chrono>

#include "metrics.hpp"

namespace fp {

std::vector<prometheus::MetricFamily> ClusterMetrics::Collect() const
{
    using prometheus::MetricType;
    const ClusterHealth &h = health_;
    const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::steady_clock::now().time_since_epoch())
                                 .count();
    std::vector<prometheus::MetricFamily> out;
    single_sample(out, "flatpath_cluster_connected", MetricType::Gauge, "1 while the member holds a lease and watches etcd.",
        h.connected ? 1 : 0);
    single_sample(out, "flatpath_cluster_lease_ttl_seconds", MetricType::Gauge,
        "Seconds this host's subnet lease has left unless renewed (0: none held).",
        h.lease_expires_ms ? std::max<double>(0, static_cast<double>(h.lease_expires_ms - now) / 1000) : 0);
    single_sample(out, "flatpath_cluster_peers", MetricType::Gauge, "Other hosts' subnets the datapath routes to.",
        static_cast<double>(h.peers.load()));
    single_sample(out, "flatpath_cluster_watch_events_total", MetricType::Counter, "Changes to the subnets applied from etcd's watch.",
        static_cast<double>(h.events.load()));
    single_sample(out, "flatpath_cluster_resyncs_total", MetricType::Counter,
        "Full listings of the subnets applied (each connect, and after a compacted watch).",
        static_cast<double>(h.resyncs.load()));
    single_sample(out, "flatpath_cluster_watch_idle_seconds", MetricType::Gauge,
        "Seconds since the watch last brought a change (-1: none yet); with the store changing, a watch that lags.",
        h.last_event_ms ? static_cast<double>(now - h.last_event_ms) / 1000 : -1);
    single_sample(out, "flatpath_cluster_skipped_records_total", MetricType::Counter,
        "Records in etcd that were malformed or outside the cluster network: logged and skipped.",
        static_cast<double>(h.skipped_records.load()));
    single_sample(out, "flatpath_cluster_route_problems_total", MetricType::Counter,
        "Routes to other hosts' subnets the kernel refused (each logged).", static_cast<double>(h.route_problems.load()));
    return out;
}

} // namespace fp

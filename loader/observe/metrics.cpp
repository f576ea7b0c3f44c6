#include "metrics.hpp"

#include <string>

#include "counters.hpp"
#include "joined.hpp"
#include "stats.hpp"

namespace fp {

using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily metric_family(const char *name, MetricType type, const char *help)
{
    MetricFamily f;
    f.name = name;
    f.help = help;
    f.type = type;
    return f;
}

void sample(MetricFamily &family, std::vector<prometheus::ClientMetric::Label> labels, double value)
{
    prometheus::ClientMetric m;
    m.label = std::move(labels);
    if (family.type == MetricType::Counter)
        m.counter.value = value;
    else
        m.gauge.value = value;
    family.metric.push_back(std::move(m));
}

void single_sample(std::vector<prometheus::MetricFamily> &out, const char *name, prometheus::MetricType type,
                   const char *help, double value)
{
    out.push_back(metric_family(name, type, help));
    sample(out.back(), {}, value);
}

namespace {

void endpoints(std::vector<MetricFamily> &out, const std::vector<DeviceStats> &devices)
{
    const auto series = [&](const char *name, const char *help, auto to, auto from) {
        MetricFamily f = metric_family(name, MetricType::Counter, help);
        for (const DeviceStats &d : devices) {
            const std::string dev = d.dev.empty() ? "(gone)" : d.dev, addresses = joined(d.addresses);
            sample(f, {{"addresses", addresses}, {"dev", dev}, {"direction", "to"}}, static_cast<double>(to(d)));
            sample(f, {{"addresses", addresses}, {"dev", dev}, {"direction", "from"}}, static_cast<double>(from(d)));
        }
        out.push_back(std::move(f));
    };
    series("flatpath_endpoint_packets_total",
           "Packets the fast path delivered to (direction=to) or accepted from (direction=from) an endpoint.",
           [](const DeviceStats &d) { return d.counters.to_packets; },
           [](const DeviceStats &d) { return d.counters.from_packets; });
    series("flatpath_endpoint_bytes_total", "Bytes of those packets.",
           [](const DeviceStats &d) { return d.counters.to_bytes; },
           [](const DeviceStats &d) { return d.counters.from_bytes; });
}

void reasons(std::vector<MetricFamily> &out, const std::vector<ReasonStats> &counts)
{
    for (const bool drop : {true, false}) {
        MetricFamily f = metric_family(drop ? "flatpath_drops_total" : "flatpath_passed_to_stack_total",
                                       MetricType::Counter,
                                       drop ? "Packets the datapath dropped, by hook and reason."
                                            : "Packets the datapath handed to the kernel stack, by hook and reason.");
        for (const ReasonStats &r : counts)
            if (reason_is_drop(r.reason) == drop)
                sample(f, {{"hook", std::string(hook_name(r.hook))}, {"reason", std::string(reason_name(r.reason))}},
                       static_cast<double>(r.counts.packets));
        out.push_back(std::move(f));
    }
}

void map_fill(std::vector<MetricFamily> &out, MapSet &maps, const std::function<ConntrackFill()> &ct_fill)
{
    const std::vector<MapFill> fills = map_fills(maps, ct_fill ? std::optional(ct_fill()) : std::nullopt);
    MetricFamily entries = metric_family("flatpath_map_entries", MetricType::Gauge, "Entries in a map now.");
    MetricFamily capacity = metric_family("flatpath_map_capacity", MetricType::Gauge,
                                          "The most entries a map holds; a full map refuses new ones.");
    for (const MapFill &f : fills) {
        sample(entries, {{"map", f.map}}, static_cast<double>(f.entries));
        sample(capacity, {{"map", f.map}}, f.capacity);
    }
    out.push_back(std::move(entries));
    out.push_back(std::move(capacity));
}

} // namespace

DatapathMetrics::DatapathMetrics(const PinRoot &root, MapSet &maps, std::function<ConntrackFill()> ct_fill)
    : root_(root), maps_(maps), ct_fill_(std::move(ct_fill))
{
}

std::vector<MetricFamily> DatapathMetrics::Collect() const
{
    std::vector<MetricFamily> out;
    endpoints(out, device_stats(root_, maps_));
    reasons(out, reason_stats(maps_));
    map_fill(out, maps_, ct_fill_);
    return out;
}

} // namespace fp

#include "metrics.hpp"

#include <map>
#include <sstream>
#include <vector>

#include "counters.hpp"
#include "stats.hpp"

namespace fp {

namespace {

std::string escaped(const std::string &v)
{
    std::string out;
    for (const char c : v) {
        if (c == '\\' || c == '"')
            out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

class Exposition {
public:
    // Each metric's HELP and TYPE once, before its first sample.
    void family(const std::string &name, const char *type, const char *help)
    {
        out_ << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
    }
    void sample(const std::string &name, const std::map<std::string, std::string> &labels, double value)
    {
        out_ << name;
        if (!labels.empty()) {
            out_ << "{";
            bool first = true;
            for (const auto &[k, v] : labels) {
                out_ << (first ? "" : ",") << k << "=\"" << escaped(v) << "\"";
                first = false;
            }
            out_ << "}";
        }
        out_ << " " << static_cast<std::uint64_t>(value) << "\n";
    }
    std::string str() const { return out_.str(); }

private:
    std::ostringstream out_;
};

std::string joined(const std::vector<std::string> &items)
{
    std::string out;
    for (const std::string &i : items)
        out += (out.empty() ? "" : ",") + i;
    return out;
}

void endpoints(Exposition &x, const std::vector<DeviceStats> &devices)
{
    const auto series = [&](const char *name, const char *help, auto to, auto from) {
        x.family(name, "counter", help);
        for (const DeviceStats &d : devices) {
            const std::string dev = d.dev.empty() ? "(gone)" : d.dev, addresses = joined(d.addresses);
            x.sample(name, {{"dev", dev}, {"addresses", addresses}, {"direction", "to"}}, static_cast<double>(to(d)));
            x.sample(name, {{"dev", dev}, {"addresses", addresses}, {"direction", "from"}}, static_cast<double>(from(d)));
        }
    };
    series("flatpath_endpoint_packets_total",
           "Packets the fast path delivered to (direction=to) or accepted from (direction=from) an endpoint.",
           [](const DeviceStats &d) { return d.counters.to_packets; },
           [](const DeviceStats &d) { return d.counters.from_packets; });
    series("flatpath_endpoint_bytes_total", "Bytes of those packets.",
           [](const DeviceStats &d) { return d.counters.to_bytes; },
           [](const DeviceStats &d) { return d.counters.from_bytes; });
}

void reasons(Exposition &x, const std::vector<ReasonStats> &counts)
{
    for (const bool drop : {true, false}) {
        const std::string name = drop ? "flatpath_drops_total" : "flatpath_passed_to_stack_total";
        x.family(name, "counter",
                 drop ? "Packets the datapath dropped, by hook and reason."
                      : "Packets the datapath handed to the kernel stack, by hook and reason.");
        for (const ReasonStats &r : counts)
            if (reason_is_drop(r.reason) == drop)
                x.sample(name, {{"hook", std::string(hook_name(r.hook))}, {"reason", std::string(reason_name(r.reason))}},
                         static_cast<double>(r.counts.packets));
    }
}

struct Fill {
    std::string map;
    std::size_t entries;
    std::uint32_t capacity;
};

template <class Map>
Fill fill_of(const Map &m)
{
    return {m.name(), m.entries().size(), m.capacity()};
}

// The conntrack tables hold 262,144 entries each: a scrape does not read them, but reports
// what housekeeping counted on its last pass (every few seconds), when it runs.
void map_fill(Exposition &x, MapSet &maps, const DaemonHealth *health)
{
    const Fill ct = health ? Fill{maps.ct.name(), health->ct_entries.load(), maps.ct.capacity()} : fill_of(maps.ct);
    const Fill ct_new = health ? Fill{maps.ct_new.name(), health->ct_new_entries.load(), maps.ct_new.capacity()}
                               : fill_of(maps.ct_new);
    const Fill fills[] = {fill_of(maps.endpoints),   fill_of(maps.ifaces), fill_of(maps.dnat), fill_of(maps.ranges),
                          fill_of(maps.local_addrs), fill_of(maps.marks),  ct,                 ct_new};
    x.family("flatpath_map_entries", "gauge", "Entries in a map now.");
    for (const Fill &f : fills)
        x.sample("flatpath_map_entries", {{"map", f.map}}, static_cast<double>(f.entries));
    x.family("flatpath_map_capacity", "gauge", "The most entries a map holds; a full map refuses new ones.");
    for (const Fill &f : fills)
        x.sample("flatpath_map_capacity", {{"map", f.map}}, f.capacity);
}

void daemon(Exposition &x, const DaemonHealth &h)
{
    x.family("flatpath_daemon_runtime_connected", "gauge", "1 while the runtime's event stream is open.");
    x.sample("flatpath_daemon_runtime_connected", {}, h.connected ? 1 : 0);
    x.family("flatpath_daemon_last_event_timestamp_seconds", "gauge", "When the last event line arrived (Unix time).");
    x.sample("flatpath_daemon_last_event_timestamp_seconds", {}, static_cast<double>(h.last_event_unix.load()));
    x.family("flatpath_daemon_connects_total", "counter", "Connections to the runtime, the first and each reconnect.");
    x.sample("flatpath_daemon_connects_total", {}, static_cast<double>(h.connects.load()));
    x.family("flatpath_daemon_connect_failures_total", "counter", "Attempts to reach the runtime that failed.");
    x.sample("flatpath_daemon_connect_failures_total", {}, static_cast<double>(h.connect_failures.load()));
    x.family("flatpath_daemon_resyncs_total", "counter", "Full comparisons of the maps with the running containers.");
    x.sample("flatpath_daemon_resyncs_total", {}, static_cast<double>(h.resyncs.load()));
    x.family("flatpath_daemon_events_total", "counter", "Runtime events read, by kind.");
    static const char *kinds[] = {"start", "died", "removed", "network_connect", "network_disconnect", "other"};
    for (std::size_t k = 0; k < h.events.size(); ++k)
        x.sample("flatpath_daemon_events_total", {{"kind", kinds[k]}}, static_cast<double>(h.events[k].load()));
    x.family("flatpath_daemon_skipped_lines_total", "counter",
             "Lines of the event stream that were not events (garbage, cut off, or too long): logged and skipped.");
    x.sample("flatpath_daemon_skipped_lines_total", {}, static_cast<double>(h.skipped_lines.load()));
    x.family("flatpath_daemon_problems_total", "counter",
             "Entries the label policy asked for that could not be applied (each logged).");
    x.sample("flatpath_daemon_problems_total", {}, static_cast<double>(h.problems.load()));
    x.family("flatpath_daemon_managed_containers", "gauge", "Containers the daemon has datapath entries for.");
    x.sample("flatpath_daemon_managed_containers", {}, static_cast<double>(h.managed.load()));
    x.family("flatpath_daemon_expired_flows_total", "counter", "Conntrack entries past their timeout, collected.");
    x.sample("flatpath_daemon_expired_flows_total", {}, static_cast<double>(h.expired_flows.load()));
}

} // namespace

std::string render_metrics(const PinRoot &root, MapSet &maps, const DaemonHealth *health)
{
    Exposition x;
    endpoints(x, device_stats(root, maps));
    reasons(x, reason_stats(maps));
    map_fill(x, maps, health);
    if (health)
        daemon(x, *health);
    return x.str();
}

} // namespace fp

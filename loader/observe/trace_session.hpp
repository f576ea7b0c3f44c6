// A trace of the datapath (`flatpath trace`): while a TraceSession lives, its filter is
// installed in fp_trace_filter and the hooks emit the events it wants on fp_trace_ring;
// it reads them, counts the events the full ring had to drop, and finds the flows that
// expire in the conntrack tables (no hook sees a flow time out). One trace at a time: a
// second is refused while the first one's process lives; a filter left by a process that
// is gone (killed) is taken over.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "flatpath_abi.h"
#include "ip_addr.hpp"
#include "map_fd.hpp"
#include "map_set.hpp"
#include "pin_root.hpp"

namespace fp {

// What a trace wants; every narrowing field is "any" when 0 / empty.
struct TraceFilter {
    std::uint32_t kinds = 0;   // 1 << enum fp_trace_kind, for each kind wanted
    std::uint32_t ifindex = 0; // the hook's device, or the endpoint device of an address
    std::optional<IpAddr> addr; // a source or destination, before or after translation
    std::uint16_t port = 0;    // host order
    std::uint8_t proto = 0;
    std::uint8_t reason = 0;   // drop and to-stack events

    // The entry of this process's trace.
    fp_trace_filter to_abi() const;
};

// The ring pinned under root.
MapFd trace_ring(const PinRoot &root);

// Who holds the installed filter, as this process sees it.
enum class Tracer {
    None,    // nobody traces
    Self,    // this process
    Live,    // another process that runs (or one of another PID namespace: not ours to judge)
    Gone,    // a process that ended without turning the events off (killed)
};
Tracer tracer_of(const fp_trace_filter &installed);

// Turns off the events of a trace whose process is gone; true when there was one. The
// daemon does this each round, so that a killed trace does not cost the datapath for long.
bool clear_abandoned_trace(MapSet &maps);

class TraceSession {
public:
    // Installs the filter; throws when another trace runs. ring: fp_trace_ring (trace_ring()).
    TraceSession(MapSet &maps, MapFd ring, TraceFilter filter);
    TraceSession(const TraceSession &) = delete;
    TraceSession &operator=(const TraceSession &) = delete;
    // Clears the filter: the datapath stops emitting.
    ~TraceSession();

    // Hands on_event each event that arrives within timeout (and each flow found expired
    // since the last look, at most once a second); on_event returns false to stop.
    // Returns false once on_event asked to stop.
    bool poll(std::chrono::milliseconds timeout, const std::function<bool(const fp_trace_event &)> &on_event);
    // Events the datapath could not put on the full ring since this trace began.
    std::uint64_t lost() const;

private:
    std::uint64_t lost_total() const;
    bool report_expired(const std::function<bool(const fp_trace_event &)> &on_event);

    struct Ring;
    MapSet &maps_;
    TraceFilter filter_;
    std::unique_ptr<Ring> ring_;
    std::uint64_t lost_at_start_ = 0;
    std::uint64_t expired_seen_until_ = 0; // CLOCK_MONOTONIC ns of the last look for expired flows
};

} // namespace fp

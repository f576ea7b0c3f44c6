// How the daemon's event loop is doing, shared between the loop (which counts) and
// the metrics endpoint (which reads): plain atomics, no lock on the event path.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "runtime_event.hpp"

namespace fp {

struct DaemonHealth {
    std::atomic<bool> connected{false};          // the event stream is open
    std::atomic<std::int64_t> last_event_unix{0}; // when the last event line arrived
    std::atomic<std::uint64_t> connects{0};      // successful connections (the first and every reconnect)
    std::atomic<std::uint64_t> connect_failures{0};
    std::atomic<std::uint64_t> resyncs{0};       // full comparisons with the runtime's running containers
    std::atomic<double> last_resync_seconds{0};  // how long the last one took, listing to last entry
    std::atomic<std::uint64_t> skipped_lines{0}; // not events: garbage, cut off, or too long
    std::atomic<std::uint64_t> problems{0};      // entries the policy asked for that could not be applied
    std::atomic<std::uint64_t> managed{0};       // containers the daemon has entries for
    std::atomic<std::uint64_t> expired_flows{0}; // conntrack entries housekeeping collected
    std::atomic<std::uint64_t> ct_entries{0};    // assured conntrack entries after housekeeping's last pass
    std::atomic<std::uint64_t> ct_new_entries{0}; // and those of flows not assured yet
    std::array<std::atomic<std::uint64_t>, 6> events{}; // by EventKind

    void count(EventKind kind) { events[static_cast<std::size_t>(kind)]++; }
};

} // namespace fp

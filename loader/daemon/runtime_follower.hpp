// The daemon's event loop: connect to the runtime, reconcile the maps with what runs,
// follow its events, and when the runtime goes away retry with backoff (250 ms,
// doubling to 8 s) and reconcile again. Everything it sees is counted in DaemonHealth.
#pragma once

#include <atomic>
#include <chrono>
#include <ctime>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "container_sync.hpp"
#include "daemon_health.hpp"
#include "daemon_records.hpp"
#include "map_set.hpp"
#include "pin_root.hpp"

namespace fp {

struct DaemonOptions;
class RuntimeClient;

class RuntimeFollower {
public:
    // stop: set (by a signal handler) to end run() within a second.
    RuntimeFollower(const PinRoot &root, const DaemonOptions &opts, MapSet &maps, const DaemonRecords &records,
                    const std::atomic<bool> &stop);

    DaemonHealth &health() { return health_; }
    // Until stop: connect, reconcile, follow events; reconnect with backoff.
    void run();
    // Removes every entry the daemon made (--remove-datapath-on-exit).
    void remove_all();

private:
    // The container exists, runs, and the policy selects it.
    bool takes(const std::optional<ContainerInfo> &c) const;
    void count(std::size_t problems);
    // Applies the container's plan and remembers whether anything of it was refused.
    void apply(const ContainerInfo &c);
    // The container is stopped or gone: its entries go, and the unsettled get another try.
    void gone(const RuntimeClient &runtime, const std::string &id);
    // After a container's entries went: the containers that were refused something (a
    // port it held, say) get their plan applied again, as iptables rules listed after a
    // removed one would take over.
    void retry_unsettled(const RuntimeClient &runtime);
    void resync(const RuntimeClient &runtime);
    void update(const RuntimeClient &runtime, const std::string &id);
    void on_event(const RuntimeClient &runtime, std::string_view line);
    void follow(const RuntimeClient &runtime, std::time_t since);
    void pause_for(std::chrono::milliseconds d) const;

    const DaemonOptions &opts_;
    const std::atomic<bool> &stop_;
    ContainerSync sync_;
    DaemonHealth health_;
    std::set<std::string> unsettled_; // containers whose last apply met problems
};

} // namespace fp

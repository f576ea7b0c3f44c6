// What the daemon does besides following the runtime, every few seconds on a thread
// of its own: collects translated flows past their timeout (the LRU would only evict
// them under pressure, and `ct list` would show them), and keeps the host's addresses
// in fp_local_addrs so that "any address" DNAT entries follow addresses that come and go,
// and turns off the events of a trace that was killed.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "daemon_health.hpp"
#include "map_set.hpp"
#include "pin_root.hpp"

namespace fp {

class Housekeeping {
public:
    Housekeeping(const PinRoot &root, MapSet &maps, DaemonHealth &health, std::chrono::milliseconds every);
    Housekeeping(const Housekeeping &) = delete;
    Housekeeping &operator=(const Housekeeping &) = delete;
    ~Housekeeping(); // stops the thread

    // One round: expired flows out, host addresses in.
    static void round(const PinRoot &root, MapSet &maps, DaemonHealth &health);

private:
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stop_ = false;
    std::thread thread_;
};

} // namespace fp

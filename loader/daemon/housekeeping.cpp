#include "housekeeping.hpp"

#include <spdlog/spdlog.h>

#include "conntrack.hpp"
#include "datapath_lock.hpp"
#include "local_addrs.hpp"
#include "trace_session.hpp"

namespace fp {

Housekeeping::Housekeeping(const PinRoot &root, MapSet &maps, DaemonHealth &health, std::chrono::milliseconds every)
{
    thread_ = std::thread([this, &root, &maps, &health, every] {
        std::unique_lock lock(mutex_);
        while (!wake_.wait_for(lock, every, [this] { return stop_; })) {
            try {
                round(root, maps, health);
            } catch (const std::exception &e) {
                spdlog::error("housekeeping: {}", e.what());
            }
        }
    });
}

Housekeeping::~Housekeeping()
{
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_one();
    thread_.join();
}

void Housekeeping::round(const PinRoot &root, MapSet &maps, DaemonHealth &health)
{
    CtFill remaining;
    health.expired_flows += Conntrack(maps).collect_expired(monotonic_ns(), &remaining);
    health.ct_entries = remaining.assured;
    health.ct_new_entries = remaining.unassured;
    if (clear_abandoned_trace(maps))
        spdlog::warn("a flatpath trace ended without turning its events off (killed): turned them off");
    DatapathLock lock(root); // DnatTable::add_all syncs the addresses too
    sync_local_addrs(maps);
}

} // namespace fp

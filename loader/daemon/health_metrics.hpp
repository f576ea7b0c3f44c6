// The daemon's event loop health (DaemonHealth) as Prometheus metric families.
#pragma once

#include <prometheus/collectable.h>

#include "daemon_health.hpp"

namespace fp {

class HealthMetrics : public prometheus::Collectable {
public:
    explicit HealthMetrics(const DaemonHealth &health) : health_(health) {}

    std::vector<prometheus::MetricFamily> Collect() const override;

private:
    const DaemonHealth &health_;
};

} // namespace fp

// The cluster member's health (ClusterHealth) as Prometheus metric families.
#pragma once

#include <prometheus/collectable.h>

#include "cluster_member.hpp"

namespace fp {

class ClusterMetrics : public prometheus::Collectable {
public:
    explicit ClusterMetrics(const ClusterHealth &health) : health_(health) {}

    std::vector<prometheus::MetricFamily> Collect() const override;

private:
    const ClusterHealth &health_;
};

} // namespace fp

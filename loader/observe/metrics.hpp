// The datapath's counters as Prometheus metric families, read from the maps at each
// scrape: per-endpoint packets and bytes, per-hook drop and pass-to-stack reasons,
// map fill levels.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <cstddef>
#include <functional>
#include <vector>

#include "map_set.hpp"
#include "pin_root.hpp"
#include "usage.hpp"

namespace fp {

class DatapathMetrics : public prometheus::Collectable {
public:
    // ct_fill empty: each scrape counts the conntrack tables itself.
    DatapathMetrics(const PinRoot &root, MapSet &maps, std::function<ConntrackFill()> ct_fill = {});

    std::vector<prometheus::MetricFamily> Collect() const override;

private:
    const PinRoot &root_;
    MapSet &maps_;
    std::function<ConntrackFill()> ct_fill_;
};

// A family of one type (counter or gauge), its samples added with sample().
prometheus::MetricFamily metric_family(const char *name, prometheus::MetricType type, const char *help);
void sample(prometheus::MetricFamily &family, std::vector<prometheus::ClientMetric::Label> labels, double value);
// A family with one unlabelled sample, appended to out.
void single_sample(std::vector<prometheus::MetricFamily> &out, const char *name, prometheus::MetricType type,
                   const char *help, double value);

} // namespace fp

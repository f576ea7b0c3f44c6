// The targets, each a ratio (or a figure) checked against its goal: printed
// as PASS or MISS next to the measurement, never asserted in tests.
#pragma once

#include <string>
#include <vector>

#include "results.hpp"

namespace fp::bench {

struct TargetCheck {
    std::string what;     // "F-xdp packet rate / B1, N=1000"
    double measured;      // the ratio or figure
    std::string goal;     // ">= 4", "<= 40 ns"
    bool pass;
    bool reference = false; // not a target: B0's figure, the machine's own noise, for comparison
};

// Only the targets whose figures were measured in this run.
std::vector<TargetCheck> check_targets(const Results &r);

} // namespace fp::bench

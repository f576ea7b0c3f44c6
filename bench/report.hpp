// Writing bench results: a CSV of every sample, a markdown table of medians with
// min and max over the runs, and targets marked PASS or MISS next to the figures.
#pragma once

#include <string>
#include <vector>

#include "program_cost.hpp"

namespace fp::bench {

// Writes DIR/program_cost.csv and DIR/summary.md; returns the markdown table.
std::string write_cost_report(const std::vector<CostSample> &samples, const std::string &dir);

} // namespace fp::bench

// Writing a bench run's results under one directory: every sample as CSV
// (samples.csv), the medians with min and max as markdown tables with the targets
// marked PASS or MISS (summary.md, also returned for printing), and a PNG plot per
// metric measured at several N (plots/, drawn by gnuplot).
#pragma once

#include <string>

#include "results.hpp"

namespace fp::bench {

// about: what the run was (machine, kernel, options), printed above the tables.
std::string write_report(const Results &r, const std::string &dir, const std::string &about);

} // namespace fp::bench

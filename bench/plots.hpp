// One PNG per metric measured at more than one N: each series' median against N
// (log scale) with min-max error bars, drawn by gnuplot from a data file and a
// script that are kept beside the image for anyone who wants to restyle it.
#pragma once

#include <string>
#include <vector>

#include "results.hpp"

namespace fp::bench {

// Writes into dir; returns the PNG file names.
std::vector<std::string> write_plots(const Results &r, const std::string &dir);

} // namespace fp::bench

// One PNG per metric measured at more than one N: each series' median against N
// (log scale) with min-max error bars; and one of the Podman networks side by side (each
// metric as a ratio to Podman's CNI network, better-is-higher for all). Drawn by gnuplot
// from a data file and a script kept beside each image for anyone who wants to restyle it.
#pragma once

#include <string>
#include <vector>

#include "results.hpp"

namespace fp::bench {

// Writes into dir; returns the PNG file names.
std::vector<std::string> write_plots(const Results &r, const std::string &dir);

} // namespace fp::bench

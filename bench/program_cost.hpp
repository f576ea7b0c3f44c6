// Per-packet cost of the production programs, measured with BPF_PROG_TEST_RUN on
// crafted packets: the kernel's own time for each run, minus that of a no-op
// program of the same type measured in the same run.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace fp::bench {

struct CostSample {
    std::string path;     // "xdp_uplink hit", ...
    std::uint32_t entries; // N: endpoints, DNAT entries and mark rules in the maps
    int run;
    double ns;            // median program time minus the no-op's, per packet
};

struct CostOptions {
    std::vector<std::uint32_t> entries = {1, 100, 1000, 10000};
    int runs = 5;
    int calls = 3000; // test runs per path and run, each on a fresh packet
};

// Runs in a network namespace of its own (the process unshares one: call it in a
// process that may). progress is told what is measured.
std::vector<CostSample> measure_program_cost(const CostOptions &opts, const std::function<void(const std::string &)> &progress);

} // namespace fp::bench

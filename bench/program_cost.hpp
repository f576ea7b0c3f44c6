// Per-packet cost of the production programs, measured with BPF_PROG_TEST_RUN on
// crafted packets: the kernel's own time for each run, minus that of a no-op
// program of the same type measured in the same run.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sample.hpp"

namespace fp::bench {

struct CostOptions {
    std::vector<std::uint32_t> entries = {1, 100, 1000, 10000, 100000};
    int runs = 5;
    int calls = 3000; // test runs per path and run, each on a fresh packet
};

// kProgramCost samples, one per path (the series), N (endpoints, DNAT entries and mark
// rules in the maps, and kFlowsPerEntry x N tracked flows: fillers.hpp) and run: the median program time minus the no-op's, per packet.
// Call it with the thread inside a network namespace of the bench's own: it makes its
// veths there. progress is told what is measured.
std::vector<Sample> measure_program_cost(const CostOptions &opts, const std::function<void(const std::string &)> &progress);

// kTraceCost samples (N = 1), one per path, trace state and run: the programs loaded
// without the trace's code (the reference), and with it while nobody traces, while a -v
// trace whose filter matches nothing runs, and while every packet is an event. Same
// conditions as measure_program_cost.
std::vector<Sample> measure_trace_cost(const CostOptions &opts, const std::function<void(const std::string &)> &progress);

// kPolicyCost samples (N = 1), one per path, policy state and run: no endpoint has a
// policy; another endpoint has one (what every packet then pays to find its endpoint has
// none); the packet's endpoint has one and the packet's flow is established (the hit path:
// one flow-table lookup). Same conditions as measure_program_cost.
std::vector<Sample> measure_policy_cost(const CostOptions &opts, const std::function<void(const std::string &)> &progress);

} // namespace fp::bench

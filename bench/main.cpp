// flatpath-bench: flatpath's datapath measured, each figure the median of several runs.
// Metrics so far: the programs' per-packet cost (the side-by-side network benchmarks
// against bridge + iptables are the rest of issue 5).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "program_cost.hpp"
#include "report.hpp"

int main(int argc, char **argv)
{
    CLI::App app{"flatpath-bench: measure flatpath's datapath. Results go to --out as CSV and a markdown table."};
    bool smoke = false;
    std::string out = "results";
    fp::bench::CostOptions cost;
    app.add_flag("--smoke", smoke, "a few seconds: one run at small N, to keep the harness working (the test suite runs it)");
    app.add_option("--out", out, "directory for the results (created)");
    app.add_option("--runs", cost.runs, "runs per figure (the median is reported, with min and max)")->check(CLI::Range(1, 100));
    app.add_option("--calls", cost.calls, "test runs per path and run")->check(CLI::Range(11, 1000000));
    CLI11_PARSE(app, argc, argv);
    if (smoke) {
        cost.entries = {1, 100};
        cost.runs = 1;
        cost.calls = 201;
    }
    try {
        const auto samples = fp::bench::measure_program_cost(cost, [](const std::string &what) {
            std::fprintf(stderr, "\r\033[K%s", what.c_str());
        });
        std::fprintf(stderr, "\r\033[K");
        std::cout << fp::bench::write_cost_report(samples, out) << "\nresults in " << out << "/\n";
    } catch (const std::exception &e) {
        std::fprintf(stderr, "\nflatpath-bench: error: %s\n", e.what());
        return 1;
    }
    return 0;
}

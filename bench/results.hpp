// Every sample of a bench run, and the medians (with min and max over the runs)
// that tables, plots and targets are made of.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sample.hpp"

namespace fp::bench {

struct Stats {
    double median, min, max;
    int runs;
    std::string note; // the samples' notes, when any had one
};

// The p-quantile (0 to 1) of one measurement's own values (a median is p = 0.5); 0 for none.
double percentile(std::vector<double> v, double p);

class Results {
public:
    void add(const Sample &s) { samples_.push_back(s); }
    void add(const std::vector<Sample> &s) { samples_.insert(samples_.end(), s.begin(), s.end()); }

    const std::vector<Sample> &samples() const { return samples_; }
    // In the order they were first measured.
    std::vector<std::string> series(const Metric &m) const;
    std::vector<std::uint32_t> entries(const Metric &m) const; // ascending
    std::optional<Stats> stats(const Metric &m, const std::string &series, std::uint32_t n) const;

    // samples.csv: metric,series,entries,run,value,unit,note (series and note quoted).
    void write_csv(const std::string &path) const;
    static Results read_csv(const std::string &path);

private:
    std::vector<Sample> samples_;
};

} // namespace fp::bench

#include "report.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "error.hpp"

namespace fp::bench {

namespace {

// The target for the program cost on a hit path, in ns per packet.
constexpr double kHitPathTargetNs = 40.0;
// At N = 10,000 entries a metric must keep 95% of its N = 1 value (for a cost: the
// N = 1 cost must be at least 95% of the N = 10,000 one).
constexpr double kScalingTarget = 0.95;

struct Stats {
    double median, min, max;
};

Stats stats_of(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return {v[v.size() / 2], v.front(), v.back()};
}

std::string fmt(double v)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", v);
    return buf;
}

} // namespace

std::string write_cost_report(const std::vector<CostSample> &samples, const std::string &dir)
{
    std::filesystem::create_directories(dir);
    std::ofstream csv(dir + "/program_cost.csv");
    csv << "path,entries,run,ns_per_packet\n";
    std::map<std::string, std::map<std::uint32_t, std::vector<double>>> by;
    std::vector<std::string> order;
    for (const CostSample &s : samples) {
        csv << '"' << s.path << "\"," << s.entries << ',' << s.run << ',' << fmt(s.ns) << '\n';
        if (!by.count(s.path))
            order.push_back(s.path);
        by[s.path][s.entries].push_back(s.ns);
    }
    std::vector<std::uint32_t> ns;
    for (const auto &[n, v] : by.begin()->second)
        ns.push_back(n);

    std::ostringstream md;
    md << "### Program cost (ns per packet, median [min-max] over runs; no-op program subtracted)\n\n| path |";
    for (std::uint32_t n : ns)
        md << " N=" << n << " |";
    md << " target |\n|---|";
    for (std::size_t i = 0; i <= ns.size(); ++i)
        md << "---|";
    md << "\n";
    for (const std::string &path : order) {
        md << "| " << path << " |";
        for (std::uint32_t n : ns) {
            const Stats s = stats_of(by[path][n]);
            md << ' ' << fmt(s.median) << " [" << fmt(s.min) << '-' << fmt(s.max) << "] |";
        }
        const double first = stats_of(by[path][ns.front()]).median, last = stats_of(by[path][ns.back()]).median;
        std::string target;
        if (path.find("forward") != std::string::npos)
            target += "hit path <= " + fmt(kHitPathTargetNs) + " ns: " + (last <= kHitPathTargetNs ? "PASS" : "MISS") + "; ";
        if (ns.size() > 1) {
            const double ratio = last > 0 ? std::max(first, 1.0) / std::max(last, 1.0) : 1.0;
            target += "N=" + std::to_string(ns.back()) + " keeps " + fmt(100 * std::min(ratio, 1.0)) + "% of N=" +
                      std::to_string(ns.front()) + ": " + (ratio >= kScalingTarget ? "PASS" : "MISS");
        }
        md << ' ' << target << " |\n";
    }
    std::ofstream(dir + "/summary.md") << md.str();
    return md.str();
}

} // namespace fp::bench

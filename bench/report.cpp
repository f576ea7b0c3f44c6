#include "report.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "plots.hpp"
#include "targets.hpp"

namespace fp::bench {

namespace {

std::string fmt(double v)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : "%.2f", v);
    return buf;
}

void table(const Results &r, const Metric &m, std::ostringstream &md)
{
    const auto ns = r.entries(m);
    md << "### " << m.title << " (" << m.unit << (m.higher_is_better ? ", higher is better" : ", lower is better")
       << ")\n\n| |";
    for (std::uint32_t n : ns)
        md << " N=" << n << " |";
    md << "\n|---|";
    for (std::size_t i = 0; i < ns.size(); ++i)
        md << "---|";
    md << "\n";
    std::string notes;
    for (const std::string &series : r.series(m)) {
        md << "| " << series << " |";
        for (std::uint32_t n : ns) {
            const auto st = r.stats(m, series, n);
            if (!st) {
                md << " - |";
                continue;
            }
            md << ' ' << fmt(st->median) << " [" << fmt(st->min) << "-" << fmt(st->max) << "]";
            if (!st->note.empty()) {
                md << " *";
                notes += "\n\\* " + series + ", N=" + std::to_string(n) + ": " + st->note;
            }
            md << " |";
        }
        md << "\n";
    }
    md << notes << (notes.empty() ? "" : "\n") << "\n";
}

} // namespace

std::string write_report(const Results &r, const std::string &dir, const std::string &about)
{
    std::filesystem::create_directories(dir);
    r.write_csv(dir + "/samples.csv");

    std::ostringstream md;
    md << about << "\nEach cell: median [min-max] over the runs.\n\n";
    for (const Metric &m : kAllMetrics)
        if (!r.series(m).empty())
            table(r, m, md);
    md << "### Targets\n\n| target | measured | goal | |\n|---|---|---|---|\n";
    for (const TargetCheck &t : check_targets(r))
        md << "| " << t.what << " | " << fmt(t.measured) << " | " << t.goal << " | " << (t.reference ? "(reference)" : t.pass ? "PASS" : "MISS") << " |\n";
    for (const std::string &png : write_plots(r, dir + "/plots"))
        md << "\n![" << png << "](plots/" << png << ")";
    md << "\n";
    std::ofstream(dir + "/summary.md") << md.str();
    return md.str();
}

} // namespace fp::bench

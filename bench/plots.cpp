#include "plots.hpp"

#include <filesystem>
#include <fstream>

#include "command.hpp"

namespace fp::bench {

namespace {

// A gnuplot single-quoted string: a quote inside is doubled.
std::string quoted(const std::string &text)
{
    std::string out = "'";
    for (char c : text)
        out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
}

} // namespace

std::vector<std::string> write_plots(const Results &r, const std::string &dir)
{
    std::filesystem::create_directories(dir);
    std::vector<std::string> pngs;
    for (const Metric &m : kAllMetrics) {
        const auto ns = r.entries(m);
        const auto series = r.series(m);
        if (ns.size() < 2 || series.empty())
            continue;
        const std::string base = dir + "/" + m.id;
        std::ofstream dat(base + ".dat");
        for (const std::string &s : series) { // one gnuplot data block per series
            dat << "# " << s << "\n";
            for (std::uint32_t n : ns)
                if (const auto st = r.stats(m, s, n))
                    dat << n << ' ' << st->median << ' ' << st->min << ' ' << st->max << '\n';
            dat << "\n\n";
        }
        dat.close();
        std::ofstream gp(base + ".gp");
        gp << "set terminal pngcairo size 900,520 font 'sans,10'\n"
           << "set output " << quoted(base + ".png") << "\n"
           << "set title " << quoted(m.title) << "\n"
           << "set xlabel 'N (published ports and mark rules)'\nset ylabel " << quoted(m.unit) << "\n"
           << "set logscale x\nset xrange [0.5:" << ns.back() * 2 << "]\nset yrange [0:*]\n"
           << "set key outside right\nset grid\n"
           << "plot ";
        for (std::size_t i = 0; i < series.size(); ++i)
            gp << (i ? ", " : "") << quoted(base + ".dat") << " index " << i << " using 1:2:3:4 with yerrorlines lw 2 title "
               << quoted(series[i]);
        gp << "\n";
        gp.close();
        run_checked({"gnuplot", base + ".gp"});
        pngs.push_back(std::string(m.id) + ".png");
    }
    return pngs;
}

} // namespace fp::bench

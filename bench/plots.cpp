#include "plots.hpp"

#include <algorithm>
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

// The Podman networks' bar chart: per metric, each network's median over P-cni's
// (inverted where lower is better, so that a taller bar is better everywhere); "" when
// P-cni was not measured.
std::string podman_networks_plot(const Results &r, const std::string &dir)
{
    const std::vector<std::string> networks = {"P-cni", "P-netavark", "P-flatpath"};
    const std::vector<Metric> metrics = {kPacketRate,       kTcpThroughput,       kLatencyP50,       kConnectRate,
                                         kEgressThroughput, kEgressConnectRate,   kLocalConnectRate, kNeighbourThroughput,
                                         kNeighbourLatencyP50};
    const std::string base = dir + "/podman_networks";
    std::ofstream dat(base + ".dat");
    dat << "metric";
    for (const std::string &n : networks)
        dat << ' ' << n;
    dat << '\n';
    int rows = 0;
    for (const Metric &m : metrics) {
        const auto ref = r.stats(m, "P-cni", 1);
        if (!ref || ref->median == 0)
            continue;
        std::string label = m.id; // a data file's string is double-quoted
        std::replace(label.begin(), label.end(), '_', ' ');
        dat << '"' << label << '"';
        for (const std::string &n : networks) {
            const auto st = r.stats(m, n, 1);
            const double v = !st || st->median == 0 ? 0
                             : m.higher_is_better    ? st->median / ref->median
                                                     : ref->median / st->median;
            dat << ' ' << v;
        }
        dat << '\n';
        ++rows;
    }
    dat.close();
    if (rows == 0)
        return "";
    std::ofstream gp(base + ".gp");
    gp << "set terminal pngcairo size 1000,520 font 'sans,10' noenhanced\n"
       << "set output " << quoted(base + ".png") << "\n"
       << "set title 'Podman networks, same containers: each figure over Podman''s CNI network (higher is better)'\n"
       << "set style data histogram\nset style histogram cluster gap 1\nset style fill solid border -1\n"
       << "set yrange [0:*]\nset grid ytics\nset key outside right\nset xtics rotate by -30\n"
       << "plot " << quoted(base + ".dat") << " using 2:xtic(1) title col, '' using 3 title col, '' using 4 title col\n";
    gp.close();
    run_checked({"gnuplot", base + ".gp"});
    return "podman_networks.png";
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
    if (const std::string png = podman_networks_plot(r, dir); !png.empty())
        pngs.push_back(png);
    return pngs;
}

} // namespace fp::bench

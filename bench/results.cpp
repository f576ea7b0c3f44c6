#include "results.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>

#include "error.hpp"

namespace fp::bench {

double percentile(std::vector<double> v, double p)
{
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

std::vector<std::string> Results::series(const Metric &m) const
{
    std::vector<std::string> out;
    for (const Sample &s : samples_)
        if (s.metric == m.id && std::find(out.begin(), out.end(), s.series) == out.end())
            out.push_back(s.series);
    return out;
}

std::vector<std::uint32_t> Results::entries(const Metric &m) const
{
    std::set<std::uint32_t> out;
    for (const Sample &s : samples_)
        if (s.metric == m.id)
            out.insert(s.entries);
    return {out.begin(), out.end()};
}

std::optional<Stats> Results::stats(const Metric &m, const std::string &series, std::uint32_t n) const
{
    std::vector<double> v;
    std::map<std::string, int> notes; // note -> runs that had it
    for (const Sample &s : samples_) {
        if (s.metric != m.id || s.series != series || s.entries != n)
            continue;
        v.push_back(s.value);
        if (!s.note.empty())
            notes[s.note]++;
    }
    if (v.empty())
        return std::nullopt;
    std::sort(v.begin(), v.end());
    Stats st{v[v.size() / 2], v.front(), v.back(), static_cast<int>(v.size()), ""};
    for (const auto &[note, runs] : notes)
        st.note += (st.note.empty() ? "" : "; ") + note + " in " + std::to_string(runs) + " of " + std::to_string(v.size()) +
                   " runs";
    return st;
}

void Results::write_csv(const std::string &path) const
{
    std::ofstream csv(path);
    csv << "metric,series,entries,run,value,unit,note\n";
    for (const Sample &s : samples_) {
        const char *unit = "";
        for (const Metric &m : kAllMetrics)
            if (s.metric == m.id)
                unit = m.unit;
        csv << s.metric << ",\"" << s.series << "\"," << s.entries << ',' << s.run << ',' << s.value << ',' << unit
            << ",\"" << s.note << "\"\n";
    }
    if (!csv)
        throw Error("cannot write " + path);
}

namespace {

// One CSV line's fields; a quoted field may hold commas (our writer never quotes quotes).
std::vector<std::string> csv_fields(const std::string &line)
{
    std::vector<std::string> out(1);
    bool quoted = false;
    for (char c : line) {
        if (c == '"')
            quoted = !quoted;
        else if (c == ',' && !quoted)
            out.emplace_back();
        else
            out.back() += c;
    }
    return out;
}

} // namespace

Results Results::read_csv(const std::string &path)
{
    std::ifstream csv(path);
    if (!csv)
        throw Error("cannot read " + path);
    Results r;
    std::string line;
    std::getline(csv, line); // the header
    for (int n = 2; std::getline(csv, line); ++n) {
        const auto f = csv_fields(line);
        if (f.size() != 7)
            throw Error(path + ":" + std::to_string(n) + ": expected 7 fields, found " + std::to_string(f.size()));
        try {
            r.add({f[0], f[1], static_cast<std::uint32_t>(std::stoul(f[2])), std::stoi(f[3]), std::stod(f[4]), f[6]});
        } catch (const std::logic_error &) {
            throw Error(path + ":" + std::to_string(n) + ": not a sample: " + line);
        }
    }
    return r;
}

} // namespace fp::bench

#include "results.hpp"

#include <algorithm>
#include <set>

namespace fp::bench {

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
    std::set<std::string> notes;
    for (const Sample &s : samples_) {
        if (s.metric != m.id || s.series != series || s.entries != n)
            continue;
        v.push_back(s.value);
        if (!s.note.empty())
            notes.insert(s.note);
    }
    if (v.empty())
        return std::nullopt;
    std::sort(v.begin(), v.end());
    Stats st{v[v.size() / 2], v.front(), v.back(), static_cast<int>(v.size()), ""};
    for (const std::string &n : notes)
        st.note += (st.note.empty() ? "" : ", ") + n;
    return st;
}

} // namespace fp::bench

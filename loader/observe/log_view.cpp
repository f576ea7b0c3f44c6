#include "log_view.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <ctime>
#include <fstream>

#include "error.hpp"

namespace fp {

namespace {

bool word_char(char c)
{
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
}

bool hex_id(std::string_view s)
{
    return s.size() >= 12 && std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

// A line as written: its time (the first word), the rest as text. A line without a time
// (a continuation) takes the time of the line before it.
LogLine parse_line(const std::string &source, const std::string &raw, std::int64_t &last_time_us)
{
    LogLine l;
    l.source = source;
    const std::size_t space = raw.find(' ');
    const std::string_view first = std::string_view(raw).substr(0, space);
    if (const auto t = parse_log_time(first)) {
        l.time_us = last_time_us = *t;
        l.time = std::string(first);
        l.text = space == std::string::npos ? "" : raw.substr(space + 1);
    } else {
        l.time_us = last_time_us;
        l.text = raw;
    }
    return l;
}

} // namespace

std::optional<std::int64_t> parse_log_time(std::string_view text)
{
    if (text.size() < 20 || text.back() != 'Z' || text[4] != '-' || text[10] != 'T')
        return std::nullopt;
    std::tm tm{};
    const std::string whole(text.substr(0, 19));
    const char *end = ::strptime(whole.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end || *end != '\0')
        return std::nullopt;
    std::int64_t us = static_cast<std::int64_t>(::timegm(&tm)) * 1000000;
    std::string_view frac = text.substr(19, text.size() - 20);
    if (!frac.empty()) {
        if (frac[0] != '.' || frac.size() < 2 || frac.size() > 10)
            return std::nullopt;
        frac.remove_prefix(1);
        std::int64_t f = 0;
        for (std::size_t i = 0; i < 6; ++i) {
            const char c = i < frac.size() ? frac[i] : '0';
            if (!std::isdigit(static_cast<unsigned char>(c)))
                return std::nullopt;
            f = f * 10 + (c - '0');
        }
        us += f;
    }
    return us;
}

std::int64_t now_us()
{
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

std::int64_t parse_since(const std::string &text, std::int64_t now)
{
    if (const auto t = parse_log_time(text))
        return *t;
    std::size_t used = 0;
    long long n = -1;
    try {
        n = std::stoll(text, &used);
    } catch (const std::exception &) {
    }
    const std::string unit = text.substr(std::min(used, text.size()));
    const std::int64_t per = unit == "s" ? 1 : unit == "m" ? 60 : unit == "h" ? 3600 : unit == "d" ? 86400 : 0;
    if (n < 0 || used == 0 || per == 0)
        throw Error("--since: '" + text + "' is neither a time (2026-12-07T09:30:00Z) nor an age (90s, 10m, 2h, 1d)");
    return now - static_cast<std::int64_t>(n) * per * 1000000;
}

bool LogFilter::matches(const LogLine &line) const
{
    if (line.time_us < since_us)
        return false;
    if (container.empty())
        return true;
    const std::string &t = line.text;
    for (std::size_t at = t.find(container); at != std::string::npos; at = t.find(container, at + 1)) {
        const std::size_t after = at + container.size();
        const bool starts = at == 0 || !word_char(t[at - 1]);
        const bool ends = after == t.size() || !word_char(t[after]) || hex_id(container);
        if (starts && ends)
            return true;
    }
    return false;
}

std::vector<LogLine> read_logs(const std::vector<LogSource> &sources, const LogFilter &filter)
{
    std::vector<LogLine> out;
    for (const LogSource &s : sources) {
        std::int64_t last = 0;
        for (const std::string &path : s.files) {
            std::ifstream in(path);
            for (std::string raw; std::getline(in, raw);) {
                LogLine l = parse_line(s.name, raw, last);
                if (filter.matches(l))
                    out.push_back(std::move(l));
            }
        }
    }
    std::stable_sort(out.begin(), out.end(), [](const LogLine &a, const LogLine &b) { return a.time_us < b.time_us; });
    return out;
}

LogFollower::LogFollower(const std::vector<LogSource> &sources)
{
    for (const LogSource &s : sources) {
        if (s.files.empty())
            continue;
        Followed f{s.name, s.files.back()};
        f.fd = ::open(f.path.c_str(), O_RDONLY | O_CLOEXEC);
        struct stat st{};
        if (f.fd >= 0 && ::fstat(f.fd, &st) == 0) {
            f.inode = st.st_ino;
            ::lseek(f.fd, 0, SEEK_END);
        }
        followed_.push_back(std::move(f));
    }
}

LogFollower::~LogFollower()
{
    for (Followed &f : followed_)
        if (f.fd >= 0)
            ::close(f.fd);
}

void LogFollower::read_new(Followed &f, const LogFilter &filter, std::vector<LogLine> &out)
{
    char buf[65536];
    for (;;) {
        const ssize_t n = ::read(f.fd, buf, sizeof buf);
        if (n <= 0)
            break;
        f.partial.append(buf, static_cast<std::size_t>(n));
    }
    for (std::size_t nl = f.partial.find('\n'); nl != std::string::npos; nl = f.partial.find('\n')) {
        LogLine l = parse_line(f.source, f.partial.substr(0, nl), f.last_time_us);
        f.partial.erase(0, nl + 1);
        if (filter.matches(l))
            out.push_back(std::move(l));
    }
}

std::vector<LogLine> LogFollower::poll(const LogFilter &filter)
{
    std::vector<LogLine> out;
    for (Followed &f : followed_) {
        if (f.fd >= 0)
            read_new(f, filter, out); // to the end of the file we have, rotated or not
        struct stat st{};
        if (::stat(f.path.c_str(), &st) != 0 || (f.fd >= 0 && st.st_ino == f.inode))
            continue;
        // A new file under the name (rotated, or created since): from its start.
        if (f.fd >= 0)
            ::close(f.fd);
        f.fd = ::open(f.path.c_str(), O_RDONLY | O_CLOEXEC);
        f.inode = st.st_ino;
        f.partial.clear();
        if (f.fd >= 0)
            read_new(f, filter, out);
    }
    std::stable_sort(out.begin(), out.end(), [](const LogLine &a, const LogLine &b) { return a.time_us < b.time_us; });
    return out;
}

} // namespace fp

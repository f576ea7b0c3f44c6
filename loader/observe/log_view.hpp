// The CNI plugin's log and the daemon's in one view (`flatpath logs`): every file of each
// (the rotated ones first), merged in time order with where each line came from, narrowed
// to a time and a container, and the lines written after, as they come.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fp {

// One log: its name in the view ("cni", "daemon") and its files, oldest first (the
// rotated ones, then the one being written). Missing files are fine.
struct LogSource {
    std::string name;
    std::vector<std::string> files;
};

struct LogLine {
    std::int64_t time_us = 0; // UTC, microseconds since the epoch
    std::string source;
    std::string time;         // as written ("2026-12-07T09:30:00.123456Z")
    std::string text;         // the rest of the line
};

// "2026-12-07T09:30:00Z" or with a fraction of a second: microseconds since the epoch.
std::optional<std::int64_t> parse_log_time(std::string_view text);
// --since: a time as the logs write it, or an age: "90s", "10m", "2h", "1d". Throws
// naming the text otherwise.
std::int64_t parse_since(const std::string &text, std::int64_t now_us);
std::int64_t now_us();

struct LogFilter {
    std::int64_t since_us = 0;
    std::string container; // a name or ID as a word of the line; an ID also by a prefix of 12 or more
    bool matches(const LogLine &line) const;
};

// Every line of the sources that the filter lets through, in time order (lines of one
// instant keep their files' order).
std::vector<LogLine> read_logs(const std::vector<LogSource> &sources, const LogFilter &filter);

// New lines of the sources' current files, from their ends at construction on. A file
// rotated meanwhile is read to its end and the new one from its start.
class LogFollower {
public:
    explicit LogFollower(const std::vector<LogSource> &sources);
    LogFollower(const LogFollower &) = delete;
    LogFollower &operator=(const LogFollower &) = delete;
    ~LogFollower();

    std::vector<LogLine> poll(const LogFilter &filter);

private:
    struct Followed {
        std::string source, path;
        int fd = -1;
        ino_t inode = 0;
        std::string partial; // a line not finished yet
        std::int64_t last_time_us = 0;
    };
    void read_new(Followed &f, const LogFilter &filter, std::vector<LogLine> &out);
    std::vector<Followed> followed_;
};

} // namespace fp

// The logs' one view: times as the plugin and the daemon write them, --since as people
// type it, a container's lines found by its name or ID (and not by a longer name that
// starts the same), files merged in time order with the rotated ones first, and a follower
// that loses no line across a rotation.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "error.hpp"
#include "log_view.hpp"
#include "temp_dir.hpp"

namespace fp::test {
namespace {

void append(const std::string &path, const std::string &text)
{
    std::ofstream(path, std::ios::app) << text;
}

std::vector<std::string> texts(const std::vector<LogLine> &lines)
{
    std::vector<std::string> out;
    for (const LogLine &l : lines)
        out.push_back(l.source + " " + l.text);
    return out;
}

TEST(LogView, TimesAsBothLogsWriteThem)
{
    EXPECT_EQ(parse_log_time("1970-01-01T00:00:01Z"), 1000000);
    EXPECT_EQ(parse_log_time("1970-01-01T00:00:01.5Z"), 1500000);
    EXPECT_EQ(parse_log_time("1970-01-01T00:00:01.000002Z"), 1000002);
    EXPECT_EQ(parse_log_time("2026-12-07T09:30:00.123456Z"), parse_log_time("2026-12-07T09:30:00Z").value() + 123456);
    for (const char *bad : {"", "2026-12-07", "2026-12-07T09:30:00", "2026-12-07 09:30:00Z", "2026-12-07T09:30:00.Z",
                            "2026-12-07T09:30:00.12a456Z", "flatpath: info: x"})
        EXPECT_FALSE(parse_log_time(bad)) << bad;
}

TEST(LogView, SinceTakesATimeOrAnAge)
{
    const std::int64_t now = 1000000000000000;
    EXPECT_EQ(parse_since("90s", now), now - 90000000);
    EXPECT_EQ(parse_since("10m", now), now - 600000000);
    EXPECT_EQ(parse_since("2h", now), now - 7200000000);
    EXPECT_EQ(parse_since("1d", now), now - 86400000000);
    EXPECT_EQ(parse_since("1970-01-01T00:00:01Z", now), 1000000);
    for (const char *bad : {"", "10", "m", "-5m", "10 m", "10w", "yesterday"})
        EXPECT_THROW(parse_since(bad, now), Error) << bad;
}

TEST(LogView, AContainerByNameOrIdAndNotByALongerName)
{
    const auto line = [](const std::string &text) { return LogLine{0, "x", "", text}; };
    LogFilter f;
    f.container = "web";
    EXPECT_TRUE(f.matches(line("ADD net 0123456789abcdef eth0 name=web: ok")));
    EXPECT_TRUE(f.matches(line("container web (0123456789ab): published tcp 8080")));
    EXPECT_FALSE(f.matches(line("container webserver (0123456789ab): published tcp 8080")));
    EXPECT_FALSE(f.matches(line("container my-web (0123456789ab): published")));
    f.container = "0123456789ab"; // a short ID: a prefix of the full one
    EXPECT_TRUE(f.matches(line("ADD net 0123456789abcdef eth0 name=web: ok")));
    EXPECT_TRUE(f.matches(line("container web (0123456789ab): published tcp 8080")));
    f.container = "0123";
    EXPECT_FALSE(f.matches(line("ADD net 0123456789abcdef eth0: ok"))) << "too short to stand for an ID";
    f.container.clear();
    f.since_us = 5;
    EXPECT_FALSE(f.matches(LogLine{4, "x", "", "old"}));
    EXPECT_TRUE(f.matches(LogLine{5, "x", "", "new"}));
}

// Two logs, one rotated: the lines come in time order, the rotated file's before the
// current one's, and a line without a time (a continuation) stays after its line.
TEST(LogView, FilesAreMergedInTimeOrder)
{
    TempDir dir("logs");
    const std::string d = dir.path();
    append(d + "/daemon.1.log", "2026-12-07T09:00:00.000001Z info: first\n");
    append(d + "/daemon.log", "2026-12-07T09:00:02.000000Z warn: third\n  its continuation\n");
    append(d + "/cni.log", "2026-12-07T09:00:01.500000Z ADD net id eth0: ok\n2026-12-07T09:00:03Z DEL net id eth0: ok\n");
    const std::vector<LogSource> sources = {{"daemon", {d + "/daemon.2.log", d + "/daemon.1.log", d + "/daemon.log"}},
                                            {"cni", {d + "/cni.log"}}};
    EXPECT_EQ(texts(read_logs(sources, {})),
              (std::vector<std::string>{"daemon info: first", "cni ADD net id eth0: ok", "daemon warn: third",
                                        "daemon   its continuation", "cni DEL net id eth0: ok"}));
    LogFilter since;
    since.since_us = parse_log_time("2026-12-07T09:00:02Z").value();
    EXPECT_EQ(read_logs(sources, since).size(), 3u);
}

// A follower starts at the files' ends, gets each line once, a half-written line only
// when it is finished, and the lines of a file rotated under it (renamed, a new one made)
// from both files.
TEST(LogView, AFollowerLosesNothingAcrossARotation)
{
    TempDir dir("logs");
    const std::string log = dir.path() + "/daemon.log";
    append(log, "2026-12-07T09:00:00Z info: before\n");
    const std::vector<LogSource> sources = {{"daemon", {log}}};
    LogFollower follower(sources);
    EXPECT_TRUE(follower.poll({}).empty());
    append(log, "2026-12-07T09:00:01Z info: one\n2026-12-07T09:00:02Z info: tw");
    EXPECT_EQ(texts(follower.poll({})), std::vector<std::string>{"daemon info: one"});
    append(log, "o\n2026-12-07T09:00:03Z info: three\n");
    std::filesystem::rename(log, dir.path() + "/daemon.1.log");
    append(log, "2026-12-07T09:00:04Z info: four\n");
    EXPECT_EQ(texts(follower.poll({})),
              (std::vector<std::string>{"daemon info: two", "daemon info: three", "daemon info: four"}));
    EXPECT_TRUE(follower.poll({}).empty());
}

} // namespace
} // namespace fp::test

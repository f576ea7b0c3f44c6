// The event stream's line splitter: lines arrive whole whatever the chunking, a line
// too long is dropped alone (the next ones still arrive), a stream cut mid-line leaves
// the piece pending instead of delivering half an event, and the reader can stop.
#include <gtest/gtest.h>

#include "line_splitter.hpp"

namespace fp {
namespace {

struct Collected {
    std::vector<std::string> lines;
    LineSplitter splitter;
    explicit Collected(std::size_t max_line, std::size_t stop_after = SIZE_MAX)
        : splitter(max_line, [this, stop_after](std::string_view l) {
              lines.emplace_back(l);
              return lines.size() < stop_after;
          })
    {
    }
};

// Every way of cutting the same stream into two chunks gives the same lines.
TEST(LineSplitter, ChunkingDoesNotMatter)
{
    const std::string stream = "{\"a\":1}\n{\"b\":2}\r\n\n{\"c\":3}\n";
    for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
        Collected c(100);
        EXPECT_TRUE(c.splitter.feed(std::string_view(stream).substr(0, cut)));
        EXPECT_TRUE(c.splitter.feed(std::string_view(stream).substr(cut)));
        EXPECT_EQ(c.lines, (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}", "", "{\"c\":3}"})) << "cut at " << cut;
        EXPECT_EQ(c.splitter.pending(), 0u);
    }
}

// A 10 MiB line, fed in 64 KiB chunks, is dropped and counted; the lines around it arrive.
TEST(LineSplitter, OversizedLineIsDroppedAlone)
{
    Collected c(1 << 20);
    EXPECT_TRUE(c.splitter.feed("before\n"));
    const std::string chunk(64 << 10, 'x');
    for (int i = 0; i < 160; ++i)
        EXPECT_TRUE(c.splitter.feed(chunk));
    EXPECT_TRUE(c.splitter.feed("tail-of-the-big-one\nafter\n"));
    EXPECT_EQ(c.lines, (std::vector<std::string>{"before", "after"}));
    EXPECT_EQ(c.splitter.oversized(), 1u);
}

// A stream that ends in the middle of a line delivers nothing of it.
TEST(LineSplitter, TruncatedLastLineStaysPending)
{
    Collected c(100);
    EXPECT_TRUE(c.splitter.feed("{\"whole\":true}\n{\"cut\":"));
    EXPECT_EQ(c.lines, (std::vector<std::string>{"{\"whole\":true}"}));
    EXPECT_EQ(c.splitter.pending(), 7u);
}

// The reader stops at the line it asked to stop at.
TEST(LineSplitter, StopsWhenAsked)
{
    Collected c(100, 2);
    EXPECT_FALSE(c.splitter.feed("one\ntwo\nthree\n"));
    EXPECT_EQ(c.lines, (std::vector<std::string>{"one", "two"}));
}

} // namespace
} // namespace fp

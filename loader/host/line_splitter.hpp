// Cuts a byte stream into lines, for HTTP streams of one JSON object per line that
// arrive in arbitrary chunks (the container runtime's events, etcd's watches). A line
// longer than the limit is dropped whole (up to its newline) and counted, so that one
// bad line can neither exhaust memory nor desynchronise the lines after it.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace fp {

class LineSplitter {
public:
    // on_line gets each complete line without its "\n" (and without a "\r" before it);
    // returning false asks the caller to stop reading. on_oversized, when given, hears of
    // each line dropped for its length as soon as it passes the limit.
    LineSplitter(std::size_t max_line, std::function<bool(std::string_view)> on_line,
                 std::function<void()> on_oversized = {})
        : max_line_(max_line), on_line_(std::move(on_line)), on_oversized_(std::move(on_oversized))
    {
    }

    // Consumes a chunk; false once on_line asked to stop.
    bool feed(std::string_view chunk);
    // Lines dropped for being longer than the limit.
    std::size_t oversized() const { return oversized_; }
    // Bytes of an unfinished last line (a stream cut in the middle of a line).
    std::size_t pending() const { return partial_.size(); }

private:
    std::size_t max_line_;
    std::function<bool(std::string_view)> on_line_;
    std::function<void()> on_oversized_;
    std::string partial_;
    bool skipping_ = false; // inside an oversized line, until its newline
    std::size_t oversized_ = 0;
};

} // namespace fp

#include "line_splitter.hpp"

namespace fp {

bool LineSplitter::feed(std::string_view chunk)
{
    while (!chunk.empty()) {
        const std::size_t nl = chunk.find('\n');
        const std::string_view piece = chunk.substr(0, nl);
        if (!skipping_ && partial_.size() + piece.size() > max_line_) {
            skipping_ = true;
            partial_.clear();
            ++oversized_;
            if (on_oversized_)
                on_oversized_();
        }
        if (!skipping_)
            partial_.append(piece);
        if (nl == std::string_view::npos)
            return true;
        chunk.remove_prefix(nl + 1);
        if (skipping_) {
            skipping_ = false;
            continue;
        }
        std::string line;
        line.swap(partial_);
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        if (!on_line_(line))
            return false;
    }
    return true;
}

} // namespace fp

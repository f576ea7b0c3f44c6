// Items written one after the other with a separator between them ("a,b,c"): a label
// value, a table cell, a command line.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace fp {

inline std::string joined(const std::vector<std::string> &items, std::string_view separator = ",")
{
    std::string out;
    for (const std::string &i : items) {
        if (!out.empty())
            out += separator;
        out += i;
    }
    return out;
}

} // namespace fp

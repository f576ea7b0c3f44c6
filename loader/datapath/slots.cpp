#include "slots.hpp"

#include <algorithm>
#include <string>

#include "error.hpp"

namespace fp {

std::uint32_t lowest_free_slot(std::vector<std::uint32_t> used, std::uint32_t limit)
{
    std::sort(used.begin(), used.end());
    std::uint32_t candidate = 1;
    for (std::uint32_t s : used) {
        if (s < candidate)
            continue;
        if (s > candidate)
            break;
        ++candidate;
    }
    if (candidate >= limit)
        throw Error("no free endpoint slot: all " + std::to_string(limit - 1) + " are in use");
    return candidate;
}

} // namespace fp

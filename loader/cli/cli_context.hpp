// What every verb shares: the global flags and the objects they lead to.
#pragma once

#include <string>

#include "map_set.hpp"
#include "pin_root.hpp"

namespace fp {

struct CliContext {
    std::string pin_root_flag;

    PinRoot pin_root() const { return PinRoot::resolve(pin_root_flag); }
    // Root check, then the pinned maps (a clear error when the datapath is not up).
    MapSet open_maps(const PinRoot &root) const;
};

} // namespace fp

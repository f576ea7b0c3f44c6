// The CNI error code a call throws, 0 when it throws none: what the CNI unit tests compare.
#pragma once

#include <functional>

#include "cni_error.hpp"

namespace fp::cni {

inline int code_of(const std::function<void()> &f)
{
    try {
        f();
    } catch (const CniError &e) {
        return static_cast<int>(e.code());
    }
    return 0;
}

} // namespace fp::cni

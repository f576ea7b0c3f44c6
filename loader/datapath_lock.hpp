// Serialises changes to the pinned maps between flatpath processes (CLI calls,
// concurrent CNI ADD/DEL): an exclusive flock on a lock file beside the pins.
// Readers (list, stats) do not take it.
#pragma once

#include <string>

#include "pin_root.hpp"

namespace fp {

class DatapathLock {
public:
    explicit DatapathLock(const PinRoot &root);
    DatapathLock(const DatapathLock &) = delete;
    DatapathLock &operator=(const DatapathLock &) = delete;
    ~DatapathLock();

private:
    int fd_ = -1;
};

} // namespace fp

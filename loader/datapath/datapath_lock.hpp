// Changes to the pinned maps take the pin root's lock; readers (list, stats) do not.
#pragma once

#include "file_lock.hpp"
#include "pin_root.hpp"

namespace fp {

class DatapathLock {
public:
    explicit DatapathLock(const PinRoot &root)
        : lock_(FileLock::on_directory(root.path(), " (is the datapath up? run: flatpath up)"))
    {
    }

private:
    FileLock lock_;
};

} // namespace fp

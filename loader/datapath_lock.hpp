// Serialising flatpath processes (CLI calls, concurrent CNI ADD/DEL) with an
// exclusive flock on a directory, held for the object's life.
#pragma once

#include <string>

#include "pin_root.hpp"

namespace fp {

class DirectoryLock {
public:
    // hint: added to the error when dir cannot be opened.
    explicit DirectoryLock(const std::string &dir, const std::string &hint = "");
    DirectoryLock(const DirectoryLock &) = delete;
    DirectoryLock &operator=(const DirectoryLock &) = delete;
    ~DirectoryLock();

private:
    int fd_ = -1;
};

// Changes to the pinned maps take the pin root's lock (bpffs holds only BPF objects,
// so the directory itself is locked). Readers (list, stats) do not take it.
class DatapathLock : public DirectoryLock {
public:
    explicit DatapathLock(const PinRoot &root)
        : DirectoryLock(root.path(), " (is the datapath up? run: flatpath up)") {}
};

} // namespace fp

// The one file lock: an exclusive flock held for the object's life, serialising
// flatpath processes (CLI calls, concurrent CNI ADD/DEL, daemons). The kernel drops it
// with the fd, also when the holder is killed.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "unique_fd.hpp"

namespace fp {

class FileLock {
public:
    // Waits for the lock on a directory that exists (bpffs holds only BPF objects, so
    // a pin root is locked as a directory). hint: added to the error when it cannot be
    // opened.
    static FileLock on_directory(const std::string &dir, const std::string &hint = "");
    // Waits for the lock on a file, created with `mode` if missing.
    static FileLock on_file(const std::string &path, mode_t mode);
    // The lock on a file if nobody holds it, else nothing.
    static std::optional<FileLock> try_on_file(const std::string &path, mode_t mode);

    int fd() const { return fd_.get(); }

private:
    explicit FileLock(UniqueFd fd) : fd_(std::move(fd)) {}

    UniqueFd fd_;
};

} // namespace fp

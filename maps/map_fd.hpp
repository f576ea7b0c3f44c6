// An owned BPF map file descriptor.
#pragma once

#include <cstdint>
#include <string>

#include "unique_fd.hpp"

namespace fp {

class MapFd {
public:
    MapFd() = default;
    explicit MapFd(int fd) : fd_(fd) {}

    // Opens a pinned map; throws fp::Error naming the path when it cannot.
    static MapFd open_pinned(const std::string &path);
    // A second, independent fd for the same map (for handing to another owner).
    static MapFd dup_of(int fd);

    int get() const { return fd_.get(); }
    int release() { return fd_.release(); }

    // Throws unless the map has these key and value sizes.
    void expect_layout(const std::string &name, std::uint32_t key_size, std::uint32_t value_size) const;

private:
    UniqueFd fd_;
};

} // namespace fp

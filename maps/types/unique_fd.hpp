// The one owner of a file descriptor: it closes the fd when it goes, moves but is
// never copied. Typed handles (MapFd, ProgFd, Socket) hold one and add what their
// kind of fd can do.
#pragma once

#include <unistd.h>

#include <utility>

namespace fp {

class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(UniqueFd &&o) noexcept : fd_(o.release()) {}
    UniqueFd &operator=(UniqueFd &&o) noexcept
    {
        if (this != &o)
            reset(o.release());
        return *this;
    }
    UniqueFd(const UniqueFd &) = delete;
    UniqueFd &operator=(const UniqueFd &) = delete;
    ~UniqueFd() { reset(); }

    int get() const { return fd_; }
    // Gives the fd up without closing it.
    int release() { return std::exchange(fd_, -1); }
    // Closes the fd held, if any, and holds fd.
    void reset(int fd = -1)
    {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = fd;
    }

private:
    int fd_ = -1;
};

} // namespace fp

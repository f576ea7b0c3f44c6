#include "frame_relay.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "error.hpp"

namespace fp {

namespace {

constexpr int kPollMs = 50; // how soon a relay notices it is being stopped

void make_non_blocking(int fd)
{
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0)
        throw_errno("make a relayed descriptor non-blocking", errno);
}

} // namespace

FrameRelay::FrameRelay(int a, int b)
{
    make_non_blocking(a);
    make_non_blocking(b);
    ab_ = std::thread([this, a, b] { copy(a, b); });
    ba_ = std::thread([this, a, b] { copy(b, a); });
}

FrameRelay::~FrameRelay()
{
    stop_ = true;
    ab_.join();
    ba_.join();
}

void FrameRelay::copy(int from, int to)
{
    std::vector<std::uint8_t> buf(65536);
    pollfd in{from, POLLIN, 0}, out{to, POLLOUT, 0};
    while (!stop_) {
        if (::poll(&in, 1, kPollMs) <= 0)
            continue;
        for (;;) {
            const ssize_t n = ::read(from, buf.data(), buf.size());
            if (n <= 0) // drained (EAGAIN), or an error the next poll reports again
                break;
            // A refused packet (a datagram socket whose peer is not there yet, a device that
            // is down) is lost, as on a wire; a full one is waited for.
            while (::write(to, buf.data(), static_cast<std::size_t>(n)) < 0 && errno == EAGAIN && !stop_)
                ::poll(&out, 1, kPollMs);
            ++carried_;
        }
    }
}

} // namespace fp

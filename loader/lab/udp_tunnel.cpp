#include "udp_tunnel.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <vector>

#include "error.hpp"
#include "netns_scope.hpp"

namespace fp {

namespace {

Socket connected_end(const UdpTunnel::End &self, const UdpTunnel::End &peer, std::uint16_t port)
{
    Socket s = bound_socket_in_netns(self.netns, self.underlay, port, SOCK_DGRAM);
    const SockAddr to = sockaddr_of(peer.underlay, port);
    if (::connect(s.get(), to.ptr(), to.len) != 0)
        throw_errno("connect the tunnel's socket in " + self.netns + " to " + peer.underlay.str(), errno);
    return s;
}

} // namespace

UdpTunnel::UdpTunnel(const End &a, const End &b, std::uint16_t port)
    : tun_a_(a.netns, a.tun, TunMode::Tun), tun_b_(b.netns, b.tun, TunMode::Tun),
      sock_a_(connected_end(a, b, port)), sock_b_(connected_end(b, a, port)),
      thread_a_([this] { relay(tun_a_, sock_a_); }), thread_b_([this] { relay(tun_b_, sock_b_); })
{
}

UdpTunnel::~UdpTunnel()
{
    stop_ = true;
    thread_a_.join();
    thread_b_.join();
}

void UdpTunnel::relay(const TunDevice &tun, const Socket &sock)
{
    std::vector<std::uint8_t> buf(65536);
    pollfd fds[2] = {{tun.fd(), POLLIN, 0}, {sock.get(), POLLIN, 0}};
    while (!stop_) {
        if (::poll(fds, 2, 50) <= 0)
            continue;
        if (fds[0].revents & POLLIN) {
            while (auto p = tun.read_packet(0)) {
                // A datagram the peer's socket refuses (ECONNREFUSED before it is up) is lost, as on a wire.
                if (::send(sock.get(), p->data(), p->size(), MSG_DONTWAIT) > 0)
                    ++carried_;
            }
        }
        if (fds[1].revents & POLLIN) {
            for (;;) {
                const ssize_t n = ::recv(sock.get(), buf.data(), buf.size(), MSG_DONTWAIT);
                if (n <= 0)
                    break;
                if (tun.write_packet(std::vector<std::uint8_t>(buf.begin(), buf.begin() + n)) == 0)
                    ++carried_;
            }
        }
    }
}

} // namespace fp

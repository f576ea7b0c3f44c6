#include "udp_tunnel.hpp"

#include <sys/socket.h>

#include <cerrno>

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
      sock_a_(connected_end(a, b, port)), sock_b_(connected_end(b, a, port)), relay_a_(tun_a_.fd(), sock_a_.get()),
      relay_b_(tun_b_.fd(), sock_b_.get())
{
}

} // namespace fp

// Small socket pieces shared by the traffic the demo, the tests and the bench send:
// an owned fd, a sockaddr for an IpAddr of either family, a bound socket.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "ip_addr.hpp"
#include "unique_fd.hpp"

namespace fp {

class Socket {
public:
    explicit Socket(int fd); // throws when fd < 0 (the socket() call failed)
    int get() const { return fd_.get(); }

private:
    UniqueFd fd_;
};

struct SockAddr {
    sockaddr_storage ss{};
    socklen_t len = 0;
    const sockaddr *ptr() const { return reinterpret_cast<const sockaddr *>(&ss); }
};

SockAddr sockaddr_of(const IpAddr &a, std::uint16_t port);
// The address of a sockaddr_in/_in6, as text ("10.0.0.1", "fd00::1"), and with its port
// ("10.0.0.1 80"): what a test or the bench reports of a peer.
std::string address_of(const sockaddr_storage &ss);
std::string address_port_of(const sockaddr_storage &ss);

// A socket of `type` (SOCK_STREAM, SOCK_DGRAM) bound to addr:port, with SO_REUSEADDR.
Socket bound_socket(const IpAddr &addr, std::uint16_t port, int type);

// The current network namespace's cookie (SO_NETNS_COOKIE), as BPF programs see it
// (bpf_get_netns_cookie).
std::uint64_t current_netns_cookie();

// Whether fd becomes readable within timeout_ms.
bool readable(int fd, int timeout_ms);

// Sends all of data on a connected socket (no SIGPIPE); false when the peer went away.
bool send_all(int fd, std::string_view data);
// Reads a connected socket until the peer closes it (or an error or timeout ends it).
std::string recv_all(int fd);

} // namespace fp

// Real traffic between namespaces, with what the receiver saw: the proof that a
// path works is bytes arriving, from the sender's own address.
#pragma once

#include <cstdint>
#include <string>

#include "ip_addr.hpp"

namespace fp {

struct Received {
    std::uint64_t bytes = 0;    // TCP: bytes read before EOF
    std::uint64_t messages = 0; // UDP: datagrams
    std::string peer;           // the source address the receiver saw
};

// A TCP connection from client_ns to server:port (server in server_ns) that sends `bytes`.
Received tcp_transfer(const std::string &server_ns, const IpAddr &server, std::uint16_t port,
                      const std::string &client_ns, std::uint64_t bytes);

// `count` UDP datagrams from client_ns to server:port; counts what arrived within a second of the last.
Received udp_send(const std::string &server_ns, const IpAddr &server, std::uint16_t port,
                  const std::string &client_ns, unsigned count);

// IPv4 + IPv6 datagrams the namespace's stack has forwarded (Ip ForwDatagrams and
// Ip6OutForwDatagrams): what the fast path saves the host from doing.
std::uint64_t stack_forwarded(const std::string &netns);

} // namespace fp

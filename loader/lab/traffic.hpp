// Real traffic between namespaces, with what the receiver saw: the proof that a
// path works is bytes arriving, from the sender's own address.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ip_addr.hpp"

namespace fp {

struct Received {
    std::uint64_t bytes = 0;    // TCP: bytes read before EOF
    std::uint64_t messages = 0; // UDP: datagrams
    std::string peer;           // the source address the receiver saw
};

struct SockTarget {
    IpAddr addr;
    std::uint16_t port;
};

// A TCP connection from client_ns to `connect` that sends `bytes`, received by a server in
// server_ns listening on `listen` (the same address unless something translates it).
Received tcp_transfer(const std::string &server_ns, const SockTarget &listen, const std::string &client_ns,
                      const SockTarget &connect, std::uint64_t bytes);
// The same, when the client connects to the address the server listens on.
Received tcp_transfer(const std::string &server_ns, const IpAddr &server, std::uint16_t port,
                      const std::string &client_ns, std::uint64_t bytes);

// `count` UDP datagrams from client_ns to `send_to`, received on `listen` in server_ns; counts
// what arrived within a second of the last.
Received udp_send(const std::string &server_ns, const SockTarget &listen, const std::string &client_ns,
                  const SockTarget &send_to, unsigned count);
Received udp_send(const std::string &server_ns, const IpAddr &server, std::uint16_t port,
                  const std::string &client_ns, unsigned count);

// One datagram from an unconnected UDP socket in client_ns to `send_to`, echoed by a
// server on `listen` in server_ns: the source the client's recvfrom reports for the echo
// ("ADDR PORT"), "" when none came back.
std::string udp_echo_source(const std::string &server_ns, const SockTarget &listen, const std::string &client_ns,
                            const SockTarget &send_to);
// A TCP connection from client_ns to `connect`, accepted on `listen` in server_ns: what
// the client's getpeername reports ("ADDR PORT").
std::string tcp_peer_name(const std::string &server_ns, const SockTarget &listen, const std::string &client_ns,
                          const SockTarget &connect);

// The error a client in client_ns gets from `to` when nothing listens there: a connected
// UDP socket's send then receive (ICMP port unreachable: "Connection refused"), or a TCP
// connect (RST). "" when there was no error.
std::string udp_refusal(const std::string &client_ns, const SockTarget &to);
std::string tcp_refusal(const std::string &client_ns, const SockTarget &to);

// IPv4 + IPv6 datagrams the namespace's stack has forwarded (Ip ForwDatagrams and
// Ip6OutForwDatagrams): what the fast path saves the host from doing.
std::uint64_t stack_forwarded(const std::string &netns);

// Sends each frame as it is (Ethernet header included, tags and all) out of dev in netns,
// through an AF_PACKET socket: frames no socket API would build.
void send_frames(const std::string &netns, const std::string &dev, const std::vector<std::vector<std::uint8_t>> &frames);

// One counter of the namespace's /proc/net/snmp: snmp_counter(ns, "Tcp", "InCsumErrors"), or
// of /proc/net/snmp6 for the groups Ip6, Udp6 and Icmp6: snmp_counter(ns, "Udp6", "Udp6InDatagrams").
std::uint64_t snmp_counter(const std::string &netns, const std::string &group, const std::string &counter);

} // namespace fp

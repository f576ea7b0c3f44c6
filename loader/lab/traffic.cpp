#include "traffic.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "error.hpp"
#include "netns_task.hpp"
#include "pipe.hpp"
#include "sockets.hpp"

namespace fp {

namespace {

constexpr int kTimeoutMs = 5000;

void wait_readable(int fd, const char *what)
{
    pollfd p{fd, POLLIN, 0};
    const int n = ::poll(&p, 1, kTimeoutMs);
    if (n == 0)
        throw Error(std::string("timed out waiting for ") + what);
    if (n < 0)
        throw_errno(std::string("poll for ") + what, errno);
}

void signal_ready(int fd)
{
    if (::write(fd, "r", 1) != 1)
        throw_errno("signal readiness", errno);
}

// The server side is started first and signals readiness by existing: it binds
// before the task is created, so a client started after it cannot race it.
std::string serialise(const Received &r)
{
    return std::to_string(r.bytes) + " " + std::to_string(r.messages) + " " + r.peer;
}

Received parse_received(const std::string &s)
{
    Received r;
    std::istringstream in(s);
    in >> r.bytes >> r.messages >> r.peer;
    return r;
}

} // namespace

Received tcp_transfer(const std::string &server_ns, const IpAddr &server, std::uint16_t port,
                      const std::string &client_ns, std::uint64_t bytes)
{
    return tcp_transfer(server_ns, SockTarget{server, port}, client_ns, SockTarget{server, port}, bytes);
}

namespace {

// In a server task: listens on `listen`, says so on ready_fd, and accepts one connection.
Socket accept_one(const SockTarget &listen, int ready_fd, sockaddr_storage *peer)
{
    Socket s = bound_socket(listen.addr, listen.port, SOCK_STREAM);
    if (::listen(s.get(), 1) != 0)
        throw_errno("listen", errno);
    signal_ready(ready_fd);
    wait_readable(s.get(), "a TCP connection");
    socklen_t plen = sizeof *peer;
    return Socket(::accept4(s.get(), reinterpret_cast<sockaddr *>(peer), &plen, SOCK_CLOEXEC));
}

} // namespace

Received tcp_transfer(const std::string &server_ns, const SockTarget &listen, const std::string &client_ns,
                      const SockTarget &connect, std::uint64_t bytes)
{
    Pipe ready = open_pipe();
    NetnsTask srv(server_ns, [&] {
        sockaddr_storage peer{};
        const Socket c = accept_one(listen, ready.write.get(), &peer);
        Received r;
        r.peer = address_of(peer);
        std::vector<char> buf(65536);
        for (;;) {
            wait_readable(c.get(), "TCP data");
            const ssize_t n = ::read(c.get(), buf.data(), buf.size());
            if (n < 0)
                throw_errno("read", errno);
            if (n == 0)
                break;
            r.bytes += static_cast<std::uint64_t>(n);
        }
        r.messages = 1;
        return serialise(r);
    });
    ready.write.reset();
    char c;
    const bool listening = ::read(ready.read.get(), &c, 1) == 1; // the server's one byte, while it serves
    if (!listening)
        return parse_received(srv.result()); // throws the server's error
    run_in_netns(client_ns, [&] {
        Socket s(::socket(connect.addr.is_v4() ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
        const timeval tv{kTimeoutMs / 1000, 0};
        ::setsockopt(s.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        const SockAddr sa = sockaddr_of(connect.addr, connect.port);
        if (::connect(s.get(), reinterpret_cast<const sockaddr *>(&sa.ss), sa.len) != 0)
            throw_errno("connect to " + connect.addr.str() + ":" + std::to_string(connect.port), errno);
        std::vector<char> buf(65536, 'f');
        std::uint64_t left = bytes;
        while (left > 0) {
            const ssize_t n = ::write(s.get(), buf.data(), std::min<std::uint64_t>(left, buf.size()));
            if (n <= 0)
                throw_errno("send", errno);
            left -= static_cast<std::uint64_t>(n);
        }
        return std::string();
    });
    return parse_received(srv.result());
}

Received udp_send(const std::string &server_ns, const IpAddr &server, std::uint16_t port,
                  const std::string &client_ns, unsigned count)
{
    return udp_send(server_ns, SockTarget{server, port}, client_ns, SockTarget{server, port}, count);
}

Received udp_send(const std::string &server_ns, const SockTarget &listen, const std::string &client_ns,
                  const SockTarget &send_to, unsigned count)
{
    Pipe ready = open_pipe();
    NetnsTask srv(server_ns, [&] {
        Socket s = bound_socket(listen.addr, listen.port, SOCK_DGRAM);
        signal_ready(ready.write.get());
        Received r;
        char buf[2048];
        for (;;) {
            pollfd p{s.get(), POLLIN, 0};
            if (::poll(&p, 1, r.messages == 0 ? kTimeoutMs : 1000) <= 0)
                break;
            sockaddr_storage peer{};
            socklen_t plen = sizeof peer;
            const ssize_t n = ::recvfrom(s.get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr *>(&peer), &plen);
            if (n < 0)
                continue;
            r.messages++;
            r.bytes += static_cast<std::uint64_t>(n);
            r.peer = address_of(peer);
            if (r.messages == count)
                break;
        }
        return serialise(r);
    });
    ready.write.reset();
    char c;
    const bool bound = ::read(ready.read.get(), &c, 1) == 1; // the server's one byte, while it serves
    if (!bound)
        return parse_received(srv.result());
    run_in_netns(client_ns, [&] {
        Socket s(::socket(send_to.addr.is_v4() ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        const SockAddr sa = sockaddr_of(send_to.addr, send_to.port);
        const char payload[64] = "flatpath";
        for (unsigned i = 0; i < count; ++i) {
            if (::sendto(s.get(), payload, sizeof payload, 0, reinterpret_cast<const sockaddr *>(&sa.ss), sa.len) < 0)
                throw_errno("send UDP to " + send_to.addr.str(), errno);
            if (i % 64 == 63)
                ::usleep(1000); // stay under the receiver's socket buffer
        }
        return std::string();
    });
    return parse_received(srv.result());
}

std::string udp_echo_source(const std::string &server_ns, const SockTarget &listen, const std::string &client_ns,
                            const SockTarget &send_to)
{
    Pipe ready = open_pipe();
    NetnsTask srv(server_ns, [&] {
        Socket s = bound_socket(listen.addr, listen.port, SOCK_DGRAM);
        signal_ready(ready.write.get());
        wait_readable(s.get(), "a datagram to echo");
        char buf[2048];
        sockaddr_storage peer{};
        socklen_t plen = sizeof peer;
        const ssize_t n = ::recvfrom(s.get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr *>(&peer), &plen);
        if (n < 0 || ::sendto(s.get(), buf, static_cast<std::size_t>(n), 0, reinterpret_cast<sockaddr *>(&peer), plen) < 0)
            throw_errno("echo a datagram", errno);
        return std::string();
    });
    ready.write.reset();
    char c;
    if (::read(ready.read.get(), &c, 1) != 1) // the server's one byte, while it serves
        return srv.result();                  // throws the server's error
    const std::string source = run_in_netns(client_ns, [&] {
        Socket s(::socket(send_to.addr.is_v4() ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        const SockAddr sa = sockaddr_of(send_to.addr, send_to.port);
        if (::sendto(s.get(), "echo", 4, 0, sa.ptr(), sa.len) < 0)
            throw_errno("send UDP to " + send_to.addr.str(), errno);
        if (!readable(s.get(), kTimeoutMs))
            return std::string();
        char buf[64];
        sockaddr_storage from{};
        socklen_t flen = sizeof from;
        if (::recvfrom(s.get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr *>(&from), &flen) < 0)
            throw_errno("receive the echo", errno);
        return address_port_of(from);
    });
    srv.result();
    return source;
}

std::string tcp_peer_name(const std::string &server_ns, const SockTarget &listen, const std::string &client_ns,
                          const SockTarget &connect)
{
    Pipe ready = open_pipe();
    NetnsTask srv(server_ns, [&] {
        sockaddr_storage peer{};
        const Socket c = accept_one(listen, ready.write.get(), &peer);
        return std::string();
    });
    ready.write.reset();
    char c;
    if (::read(ready.read.get(), &c, 1) != 1)
        return srv.result();
    const std::string peer = run_in_netns(client_ns, [&] {
        Socket s(::socket(connect.addr.is_v4() ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
        const SockAddr sa = sockaddr_of(connect.addr, connect.port);
        if (::connect(s.get(), sa.ptr(), sa.len) != 0)
            throw_errno("connect to " + connect.addr.str(), errno);
        sockaddr_storage name{};
        socklen_t len = sizeof name;
        if (::getpeername(s.get(), reinterpret_cast<sockaddr *>(&name), &len) != 0)
            throw_errno("getpeername", errno);
        return address_port_of(name);
    });
    srv.result();
    return peer;
}

std::string udp_refusal(const std::string &client_ns, const SockTarget &to)
{
    return run_in_netns(client_ns, [&] {
        Socket s(::socket(to.addr.is_v4() ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        const SockAddr sa = sockaddr_of(to.addr, to.port);
        if (::connect(s.get(), reinterpret_cast<const sockaddr *>(&sa.ss), sa.len) != 0)
            throw_errno("connect UDP socket", errno);
        char buf[16] = "ping";
        if (::send(s.get(), buf, 4, 0) < 0)
            return std::string(std::strerror(errno));
        pollfd p{s.get(), POLLIN, 0};
        if (::poll(&p, 1, kTimeoutMs) <= 0)
            return std::string();
        return ::recv(s.get(), buf, sizeof buf, 0) < 0 ? std::string(std::strerror(errno)) : std::string();
    });
}

std::string tcp_refusal(const std::string &client_ns, const SockTarget &to)
{
    return run_in_netns(client_ns, [&] {
        Socket s(::socket(to.addr.is_v4() ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
        const timeval tv{kTimeoutMs / 1000, 0};
        ::setsockopt(s.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        const SockAddr sa = sockaddr_of(to.addr, to.port);
        return ::connect(s.get(), reinterpret_cast<const sockaddr *>(&sa.ss), sa.len) != 0
                   ? std::string(std::strerror(errno))
                   : std::string();
    });
}

void send_frames(const std::string &netns, const std::string &dev, const std::vector<std::vector<std::uint8_t>> &frames)
{
    run_in_netns(netns, [&] {
        Socket s(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0)); // protocol 0: send only
        sockaddr_ll to{};
        to.sll_family = AF_PACKET;
        to.sll_ifindex = static_cast<int>(if_nametoindex(dev.c_str()));
        if (to.sll_ifindex == 0)
            throw Error("no device " + dev + " in " + netns);
        to.sll_halen = 6;
        for (const auto &f : frames) {
            std::memcpy(to.sll_addr, f.data(), 6);
            if (::sendto(s.get(), f.data(), f.size(), 0, reinterpret_cast<const sockaddr *>(&to), sizeof to) < 0)
                throw_errno("send a raw frame on " + dev, errno);
        }
        return std::string();
    });
}

namespace {

// /proc/net/snmp of the calling namespace: a header line "Ip: Forwarding DefaultTTL ..."
// then a line of values, per group.
std::uint64_t read_snmp(const std::string &group, const std::string &counter)
{
    std::ifstream snmp("/proc/net/snmp");
    std::string header, values;
    while (std::getline(snmp, header) && std::getline(snmp, values)) {
        if (header.rfind(group + ":", 0) != 0)
            continue;
        std::istringstream h(header), v(values);
        std::string name, value;
        while (h >> name && v >> value)
            if (name == counter)
                return std::stoull(value);
    }
    throw Error("/proc/net/snmp has no " + group + " " + counter);
}

// /proc/net/snmp6 of the calling namespace: one "Name value" line per counter.
std::uint64_t read_snmp6(const std::string &counter)
{
    std::ifstream snmp6("/proc/net/snmp6");
    std::string name;
    std::uint64_t value = 0;
    while (snmp6 >> name >> value)
        if (name == counter)
            return value;
    throw Error("/proc/net/snmp6 has no " + counter);
}

} // namespace

std::uint64_t snmp_counter(const std::string &netns, const std::string &group, const std::string &counter)
{
    return std::stoull(run_in_netns(netns, [&] {
        return std::to_string(group == "Ip6" || group == "Udp6" || group == "Icmp6" ? read_snmp6(counter)
                                                                                 : read_snmp(group, counter));
    }));
}

std::uint64_t stack_forwarded(const std::string &netns)
{
    return std::stoull(run_in_netns(netns, [] {
        return std::to_string(read_snmp("Ip", "ForwDatagrams") + read_snmp6("Ip6OutForwDatagrams"));
    }));
}

} // namespace fp

#include "sockets.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>

#include <cerrno>
#include <cstring>

#include "error.hpp"

namespace fp {

Socket::Socket(int fd) : fd_(fd)
{
    if (fd < 0)
        throw_errno("socket", errno);
}

SockAddr sockaddr_of(const IpAddr &a, std::uint16_t port)
{
    SockAddr out;
    if (a.is_v4()) {
        auto *sin = reinterpret_cast<sockaddr_in *>(&out.ss);
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        std::memcpy(&sin->sin_addr, a.raw().b + 12, 4);
        out.len = sizeof *sin;
    } else {
        auto *sin6 = reinterpret_cast<sockaddr_in6 *>(&out.ss);
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        std::memcpy(&sin6->sin6_addr, a.raw().b, 16);
        out.len = sizeof *sin6;
    }
    return out;
}

std::string address_of(const sockaddr_storage &ss)
{
    char buf[INET6_ADDRSTRLEN] = {};
    if (ss.ss_family == AF_INET)
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in &>(ss).sin_addr, buf, sizeof buf);
    else
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6 &>(ss).sin6_addr, buf, sizeof buf);
    return buf;
}

std::string address_port_of(const sockaddr_storage &ss)
{
    const std::uint16_t port = ntohs(ss.ss_family == AF_INET ? reinterpret_cast<const sockaddr_in &>(ss).sin_port
                                                             : reinterpret_cast<const sockaddr_in6 &>(ss).sin6_port);
    return address_of(ss) + " " + std::to_string(port);
}

Socket bound_socket(const IpAddr &addr, std::uint16_t port, int type)
{
    Socket s(::socket(addr.is_v4() ? AF_INET : AF_INET6, type | SOCK_CLOEXEC, 0));
    const int one = 1;
    ::setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    const SockAddr sa = sockaddr_of(addr, port);
    if (::bind(s.get(), sa.ptr(), sa.len) != 0)
        throw_errno("bind " + addr.str() + ":" + std::to_string(port), errno);
    return s;
}

bool readable(int fd, int timeout_ms)
{
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, timeout_ms) == 1;
}

bool send_all(int fd, std::string_view data)
{
    while (!data.empty()) {
        const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

std::string recv_all(int fd)
{
    std::string out;
    char buf[65536];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
        out.append(buf, static_cast<std::size_t>(n));
    return out;
}

std::uint64_t current_netns_cookie()
{
    const Socket s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    std::uint64_t cookie = 0;
    socklen_t len = sizeof cookie;
    if (::getsockopt(s.get(), SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) != 0)
        throw_errno("read this network namespace's cookie (SO_NETNS_COOKIE)", errno);
    return cookie;
}

} // namespace fp

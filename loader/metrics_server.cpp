#include "metrics_server.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>

#include "error.hpp"
#include "port_spec.hpp"

namespace fp {

namespace {

struct ListenAddr {
    IpAddr addr;
    std::uint16_t port;
};

ListenAddr parse_listen(const std::string &text)
{
    const std::size_t colon = text.rfind(':');
    if (colon == std::string::npos)
        throw Error("--metrics-listen '" + text + "': want ADDR:PORT, [ADDR6]:PORT or :PORT");
    std::string host = text.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    try {
        const std::string port = text.substr(colon + 1);
        const std::uint16_t p = port == "0" ? 0 : parse_ports(port).first;
        return {IpAddr::parse(host.empty() ? "0.0.0.0" : host), p};
    } catch (const Error &e) {
        throw Error("--metrics-listen '" + text + "': " + e.what());
    }
}

std::string response(const std::string &status, const std::string &type, const std::string &body)
{
    return "HTTP/1.0 " + status + "\r\nContent-Type: " + type + "\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\nConnection: close\r\n\r\n" + body;
}

} // namespace

MetricsServer::MetricsServer(const std::string &listen, std::function<std::string()> render)
    : listener_([&] {
          const ListenAddr where = parse_listen(listen);
          try {
              return bound_socket(where.addr, where.port, SOCK_STREAM);
          } catch (const Error &e) {
              throw Error("--metrics-listen " + listen + ": " + e.what());
          }
      }()),
      render_(std::move(render))
{
    if (::listen(listener_.get(), 16) != 0)
        throw_errno("listen on " + listen, errno);
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    ::getsockname(listener_.get(), reinterpret_cast<sockaddr *>(&ss), &len);
    port_ = ntohs(ss.ss_family == AF_INET ? reinterpret_cast<sockaddr_in *>(&ss)->sin_port
                                          : reinterpret_cast<sockaddr_in6 *>(&ss)->sin6_port);
    if (::pipe2(stop_pipe_, O_CLOEXEC) != 0)
        throw_errno("pipe", errno);
    thread_ = std::thread([this] { serve(); });
}

MetricsServer::~MetricsServer()
{
    if (::write(stop_pipe_[1], "x", 1) < 0)
        spdlog::warn("metrics server: cannot signal its thread to stop");
    if (thread_.joinable())
        thread_.join();
    ::close(stop_pipe_[0]);
    ::close(stop_pipe_[1]);
}

void MetricsServer::serve()
{
    for (;;) {
        pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            spdlog::error("metrics server: poll: {}", std::strerror(errno));
            return;
        }
        if (fds[1].revents)
            return;
        const int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        answer(fd);
        ::close(fd);
    }
}

void MetricsServer::answer(int fd)
{
    // The request line is all we need; give a slow or silent client two seconds.
    std::string request;
    char buf[1024];
    while (request.find("\r\n\r\n") == std::string::npos && request.size() < 8192) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 2000) <= 0)
            return;
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0)
            break;
        request.append(buf, static_cast<std::size_t>(n));
    }
    const std::string line = request.substr(0, request.find("\r\n"));
    if (line.rfind("GET /metrics ", 0) != 0 && line != "GET /metrics") {
        send_all(fd, response("404 Not Found", "text/plain", "flatpath serves GET /metrics\n"));
        return;
    }
    try {
        send_all(fd, response("200 OK", "text/plain; version=0.0.4", render_()));
    } catch (const std::exception &e) {
        spdlog::error("metrics: {}", e.what());
        send_all(fd, response("500 Internal Server Error", "text/plain", std::string(e.what()) + "\n"));
    }
}

} // namespace fp

// A container runtime API that says exactly what a test scripts, for what a real
// Podman never says: garbage in its event stream. It speaks Podman's libpod dialect
// on a unix socket (HTTP/1.1, the event stream chunked like Podman's): _ping answers
// OK, the container list is empty, every inspect is a 404; the first events request
// gets the scripted chunks and then the end of the stream, later ones an open stream
// with nothing in it.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "error.hpp"

namespace fp::test {

class ScriptedRuntime {
public:
    ScriptedRuntime(std::string path, std::vector<std::string> first_stream)
        : path_(std::move(path)), first_stream_(std::move(first_stream))
    {
        listener_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path_.c_str());
        ::unlink(path_.c_str());
        if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr *>(&sa), sizeof sa) != 0 ||
            ::listen(listener_, 16) != 0 || ::pipe2(stop_, O_CLOEXEC) != 0)
            throw_errno("scripted runtime on " + path_, errno);
        thread_ = std::thread([this] { serve(); });
    }
    ScriptedRuntime(const ScriptedRuntime &) = delete;
    ScriptedRuntime &operator=(const ScriptedRuntime &) = delete;
    ~ScriptedRuntime()
    {
        if (::write(stop_[1], "x", 1) < 0)
            std::perror("scripted runtime: stop");
        thread_.join();
        for (const int fd : held_)
            ::close(fd);
        ::close(listener_);
        ::close(stop_[0]);
        ::close(stop_[1]);
        ::unlink(path_.c_str());
    }

    int event_requests() const { return event_requests_; }

private:
    void serve()
    {
        for (;;) {
            pollfd fds[2] = {{listener_, POLLIN, 0}, {stop_[0], POLLIN, 0}};
            if (::poll(fds, 2, -1) < 0 || fds[1].revents)
                return;
            const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd >= 0)
                answer(fd);
        }
    }

    static void send_all(int fd, const std::string &s)
    {
        for (std::size_t off = 0; off < s.size();) {
            const ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
            if (n <= 0)
                return;
            off += static_cast<std::size_t>(n);
        }
    }
    static void send_chunk(int fd, const std::string &data)
    {
        char size[16];
        std::snprintf(size, sizeof size, "%zx\r\n", data.size());
        send_all(fd, size + data + "\r\n");
    }

    void answer(int fd)
    {
        std::string request;
        char buf[4096];
        while (request.find("\r\n\r\n") == std::string::npos) {
            const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0)
                break;
            request.append(buf, static_cast<std::size_t>(n));
        }
        const std::string target = request.substr(4, request.find(' ', 4) - 4); // after "GET "
        const auto plain = [&](const std::string &status, const std::string &body) {
            send_all(fd, "HTTP/1.1 " + status + "\r\nContent-Type: application/json\r\nContent-Length: " +
                             std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
            ::close(fd);
        };
        if (target == "/v4.0.0/libpod/_ping")
            return plain("200 OK", "OK");
        if (target.rfind("/v4.0.0/libpod/containers/json", 0) == 0)
            return plain("200 OK", "[]");
        if (target.rfind("/v4.0.0/libpod/events", 0) != 0)
            return plain("404 Not Found", "{\"cause\":\"no such container\"}");
        send_all(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
        if (event_requests_++ > 0) {
            held_.push_back(fd); // an open stream with nothing to say
            return;
        }
        for (const std::string &chunk : first_stream_)
            send_chunk(fd, chunk);
        send_all(fd, "0\r\n\r\n");
        ::close(fd);
    }

    std::string path_;
    std::vector<std::string> first_stream_;
    int listener_ = -1;
    int stop_[2] = {-1, -1};
    std::vector<int> held_;
    std::atomic<int> event_requests_{0};
    std::thread thread_;
};

} // namespace fp::test

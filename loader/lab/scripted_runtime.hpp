// A container runtime API that says exactly what a test scripts, for what the tests
// cannot get from a real runtime here: garbage in Podman's event stream (a real Podman
// never sends it), Docker's dialect (installing Docker would start dockerd in the
// machine's own namespace, which the tests must not touch), and for the bench a
// thousand running containers without running a thousand. It speaks Podman's libpod
// API or Docker's on a unix socket, HTTP/1.1 with the event stream chunked as both
// send it: _ping, the list of the containers set (with their labels), their inspect
// answers (404 for any other), and events: the first events request gets the scripted
// first stream and then the end of the stream (when there is one); other requests stay
// open and get what emit() sends.
#pragma once

#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "error.hpp"
#include "sockets.hpp"

namespace fp {

class ScriptedRuntime {
public:
    enum class Dialect { Podman, Docker };

    ScriptedRuntime(std::string path, Dialect dialect, std::vector<std::string> first_stream = {})
        : path_(std::move(path)), prefix_(dialect == Dialect::Podman ? "/v4.0.0/libpod" : ""),
          first_stream_(std::move(first_stream))
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
        for (const int fd : streams_)
            ::close(fd);
        ::close(listener_);
        ::close(stop_[0]);
        ::close(stop_[1]);
        ::unlink(path_.c_str());
    }

    // A running container: listed, and inspected as `inspect` (the runtime's JSON).
    void set_container(const nlohmann::json &inspect)
    {
        std::lock_guard lock(mutex_);
        containers_[inspect["Id"].get<std::string>()] = inspect;
    }
    void remove_container(const std::string &id)
    {
        std::lock_guard lock(mutex_);
        containers_.erase(id);
    }
    // One event line to every open event stream.
    void emit(const nlohmann::json &event)
    {
        std::lock_guard lock(mutex_);
        for (const int fd : streams_)
            send_chunk(fd, event.dump() + "\n");
    }
    int event_requests() const { return event_requests_; }
    int open_streams()
    {
        std::lock_guard lock(mutex_);
        return static_cast<int>(streams_.size());
    }

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

    static void send_chunk(int fd, const std::string &data)
    {
        char size[16];
        std::snprintf(size, sizeof size, "%zx\r\n", data.size());
        send_all(fd, size + data + "\r\n");
    }

    // The answer to a plain GET; false for a path this runtime does not serve.
    bool plain_answer(const std::string &target, std::string &body)
    {
        std::lock_guard lock(mutex_);
        if (target == prefix_ + "/_ping") {
            body = "OK";
            return true;
        }
        if (target.rfind(prefix_ + "/containers/json", 0) == 0) {
            nlohmann::json list = nlohmann::json::array();
            for (const auto &[id, c] : containers_)
                list.push_back({{"Id", id}, {"Names", {c.value("Name", "")}}, {"Labels", c["Config"]["Labels"]}});
            body = list.dump();
            return true;
        }
        const std::string containers = prefix_ + "/containers/";
        if (target.rfind(containers, 0) == 0 && target.size() > containers.size() + 5 &&
            target.compare(target.size() - 5, 5, "/json") == 0) {
            const auto it = containers_.find(target.substr(containers.size(), target.size() - containers.size() - 5));
            if (it == containers_.end())
                return false;
            body = it->second.dump();
            return true;
        }
        return false;
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
        if (target.rfind(prefix_ + "/events", 0) != 0) {
            std::string body;
            const bool found = plain_answer(target, body);
            if (!found)
                body = "{\"message\":\"no such container\"}";
            send_all(fd, "HTTP/1.1 " + std::string(found ? "200 OK" : "404 Not Found") +
                             "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                             "\r\nConnection: close\r\n\r\n" + body);
            ::close(fd);
            return;
        }
        send_all(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
        if (event_requests_++ == 0 && !first_stream_.empty()) {
            for (const std::string &chunk : first_stream_)
                send_chunk(fd, chunk);
            send_all(fd, "0\r\n\r\n");
            ::close(fd);
            return;
        }
        std::lock_guard lock(mutex_);
        streams_.push_back(fd);
    }

    std::string path_;
    std::string prefix_; // "/v4.0.0/libpod" or ""
    std::vector<std::string> first_stream_;
    int listener_ = -1;
    int stop_[2] = {-1, -1};
    std::mutex mutex_;
    std::map<std::string, nlohmann::json> containers_;
    std::vector<int> streams_;
    std::atomic<int> event_requests_{0};
    std::thread thread_;
};

} // namespace fp

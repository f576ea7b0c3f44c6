// The container runtime's REST API over its unix socket: Podman's libpod API or
// Docker's, both HTTP/1.1. Plain requests list and inspect containers; the event
// stream (chunked, one JSON object per line) is read line by line. The daemon's
// window on the runtime; nothing here interprets what the runtime says.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace fp {

class RuntimeApi {
public:
    explicit RuntimeApi(std::string socket_path) : socket_(std::move(socket_path)) {}

    const std::string &socket_path() const { return socket_; }

    // GET path ("/v4.0.0/libpod/containers/json"): the body. Throws fp::Error naming the
    // socket, the path and the HTTP status or transport error.
    std::string get(const std::string &path) const;
    nlohmann::json get_json(const std::string &path) const;
    // The same, but nullopt for HTTP 404 (a container that is gone).
    std::optional<nlohmann::json> get_json_unless_missing(const std::string &path) const;

    struct StreamEnd {
        bool stopped = false;       // on_line returned false, or *stop was set
        std::size_t oversized = 0;  // lines over max_line, dropped
        std::size_t truncated = 0;  // bytes of a last line cut off by the end of the stream
    };
    struct FollowOptions {
        std::size_t max_line = std::size_t{1} << 20; // longer lines are dropped, alone
        const std::atomic<bool> *stop = nullptr;     // set: end the stream (noticed within a second)
        std::function<void()> on_oversized;          // told of each dropped line when it happens
    };
    // GET path as a stream: each line to on_line until it returns false, *stop becomes true
    // (also while no line arrives) or the server ends the response. Throws like get() for
    // a refused request or a broken transfer.
    StreamEnd follow(const std::string &path, const std::function<bool(std::string_view)> &on_line,
                     const FollowOptions &opts) const;
    StreamEnd follow(const std::string &path, const std::function<bool(std::string_view)> &on_line) const
    {
        return follow(path, on_line, FollowOptions{});
    }

private:
    // The HTTP status; the body appended to body. Throws for a transport error only.
    long get_with_status(const std::string &path, std::string &body) const;

    std::string socket_;
};

} // namespace fp

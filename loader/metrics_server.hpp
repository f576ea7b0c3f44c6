// A small HTTP/1.0 server for Prometheus scrapes: GET /metrics answers with what
// render() returns, one connection at a time, on a thread of its own so that a slow
// scrape never holds up the daemon's event loop (nor the other way round).
#pragma once

#include <functional>
#include <string>
#include <thread>

#include "sockets.hpp"

namespace fp {

class MetricsServer {
public:
    // listen: "ADDR:PORT", "[ADDR6]:PORT" or ":PORT" (every address). Throws naming the
    // address when it is malformed or cannot be bound.
    MetricsServer(const std::string &listen, std::function<std::string()> render);
    MetricsServer(const MetricsServer &) = delete;
    MetricsServer &operator=(const MetricsServer &) = delete;
    ~MetricsServer(); // stops the thread

    std::uint16_t port() const { return port_; } // the bound port (for ":0")

private:
    void serve();
    void answer(int fd);

    Socket listener_;
    std::uint16_t port_ = 0;
    int stop_pipe_[2] = {-1, -1};
    std::function<std::string()> render_;
    std::thread thread_;
};

} // namespace fp

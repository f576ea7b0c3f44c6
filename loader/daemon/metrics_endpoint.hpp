// The daemon's --metrics-listen endpoint: prometheus-cpp's pull exposer (CivetWeb)
// serving GET /metrics from collectables that read their values at each scrape, on a
// thread of its own so that a slow scrape never holds up the event loop.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/exposer.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace fp {

class MetricsEndpoint {
public:
    // listen: "ADDR:PORT", "[ADDR6]:PORT" or ":PORT" (every IPv4 address). Binds at once,
    // so that a daemon that cannot serve its metrics stops before it changes anything;
    // throws naming the address when it is malformed or cannot be bound.
    explicit MetricsEndpoint(const std::string &listen);

    // Serves what source collects from now on (an empty page until the first).
    void add(std::shared_ptr<prometheus::Collectable> source);

    std::uint16_t port() const; // the bound port (for ":0")

private:
    std::vector<std::shared_ptr<prometheus::Collectable>> sources_; // the exposer holds weak pointers
    std::unique_ptr<prometheus::Exposer> exposer_;
};

} // namespace fp

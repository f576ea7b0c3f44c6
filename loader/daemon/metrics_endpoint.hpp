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
    // listen: "ADDR:PORT", "[ADDR6]:PORT" or ":PORT" (every IPv4 address). Throws naming
    // the address when it is malformed or cannot be bound.
    MetricsEndpoint(const std::string &listen, std::vector<std::shared_ptr<prometheus::Collectable>> sources);

    std::uint16_t port() const; // the bound port (for ":0")

private:
    std::vector<std::shared_ptr<prometheus::Collectable>> sources_; // the exposer holds weak pointers
    std::unique_ptr<prometheus::Exposer> exposer_;
};

// The CivetWeb listening address for a --metrics-listen value; throws for a malformed one.
std::string civetweb_listen_address(const std::string &listen);

} // namespace fp

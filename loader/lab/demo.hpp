// `flatpath demo`: the whole datapath on an embedded default, in namespaces it
// creates and always removes.
#pragma once

#include <string>

namespace fp {

struct DemoOptions {
    std::string xdp_mode = "auto";
    std::uint64_t tcp_bytes = 10 << 20;
};

// Returns the exit code: 0 when every check passed.
int run_demo(const DemoOptions &opts);

// Sends `count` pings from ns to addr; returns how many were answered.
unsigned ping(const std::string &ns, const std::string &addr, unsigned count);

} // namespace fp

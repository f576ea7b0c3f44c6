// One line per plugin run in STATE_DIR/flatpath-cni.log (time, command, network,
// container ID, interface, the runtime's name for the container when it gives one, the
// outcome), besides stderr, which runtimes often drop. Rotated by size into
// flatpath-cni.1.log. `flatpath logs` reads it.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>

#include "request.hpp"

namespace fp::cni {

inline constexpr const char *kInvocationLogName = "flatpath-cni.log";
inline constexpr const char *kInvocationLogPrevious = "flatpath-cni.1.log";
inline constexpr std::uintmax_t kInvocationLogMaxBytes = 4 << 20;

class InvocationLog {
public:
    // Opens the log of the request's state directory (stateDir or the
    // default); a log that cannot be opened is skipped, never a reason to fail.
    void open_for(const Request &req);
    void write(const std::string &outcome);

private:
    std::ofstream out_;
    std::string prefix_;
};

} // namespace fp::cni

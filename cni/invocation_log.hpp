// One line per plugin run in STATE_DIR/flatpath-cni.log (command, container,
// interface, outcome), besides stderr, which runtimes often drop.
#pragma once

#include <fstream>
#include <string>

#include "request.hpp"

namespace fp::cni {

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

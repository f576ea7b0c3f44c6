// Running another CNI plugin (an IPAM plugin such as host-local) the way a runtime
// would: found through CNI_PATH, the same CNI_* environment with the command
// replaced, the network configuration on stdin.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "request.hpp"

namespace fp::cni {

// Runs plugin `type` with `command` ("ADD", "DEL", ...); returns its stdout parsed (null
// when empty). A plugin's error JSON becomes a CniError with its code and message.
nlohmann::json delegate(const Request &req, const std::string &type, const std::string &command);

} // namespace fp::cni

// The CNI commands.
#pragma once

#include <nlohmann/json.hpp>

#include "request.hpp"

namespace fp::cni {

// Runs the request's command; returns what to print (null for nothing), or throws CniError.
nlohmann::json run(const Request &req);

nlohmann::json version_result(const Request &req);

} // namespace fp::cni

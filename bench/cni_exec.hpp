// Runs a CNI plugin the way a runtime does: the CNI_* variables in the environment, the
// network configuration on stdin, the result parsed from stdout. The plugin runs in the
// calling thread's network namespace (the host's, for the plugin).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace fp::bench {

// Throws, with the plugin's output, when it fails; returns its result (empty for DEL).
nlohmann::json run_cni_plugin(const std::string &plugin, const std::map<std::string, std::string> &env,
                              const nlohmann::json &config);

} // namespace fp::bench

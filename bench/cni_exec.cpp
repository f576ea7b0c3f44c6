#include "cni_exec.hpp"

#include <stdlib.h>

#include "command.hpp"
#include "error.hpp"

namespace fp::bench {

nlohmann::json run_cni_plugin(const std::string &plugin, const std::map<std::string, std::string> &env,
                              const nlohmann::json &config)
{
    // In this process's environment, inherited by the plugin with no extra program in
    // between (whose start-up would be timed too).
    for (const auto &[k, v] : env)
        ::setenv(k.c_str(), v.c_str(), 1);
    const std::string input = config.dump();
    const CommandResult r = run_command({plugin}, &input);
    for (const auto &[k, v] : env)
        ::unsetenv(k.c_str());
    if (r.status != 0)
        throw Error(plugin + " " + env.at("CNI_COMMAND") + " failed: " + r.output);
    const std::size_t start = r.output.find('{');
    return start == std::string::npos ? nlohmann::json{} : nlohmann::json::parse(r.output.substr(start));
}

} // namespace fp::bench

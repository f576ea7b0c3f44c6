// One invocation of the plugin as the CNI spec defines it: the command and its
// parameters from the environment, the network configuration from stdin.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace fp::cni {

// The versions this plugin speaks (VERSION reports them; anything else is error 1).
inline const std::vector<std::string> kSupportedVersions = {"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"};

enum class Command { Add, Del, Check, Gc, Status, Version };

struct Request {
    Command command = Command::Version;
    std::string container_id;                 // CNI_CONTAINERID
    std::string netns;                        // CNI_NETNS
    std::string ifname;                       // CNI_IFNAME
    std::map<std::string, std::string> args;  // CNI_ARGS: K=V;K=V
    std::vector<std::string> path;            // CNI_PATH
    nlohmann::json config;                    // stdin
    std::string cni_version;                  // config["cniVersion"], validated

    // Reads env through getenv_fn (tests pass their own) and parses stdin_text; throws
    // CniError with the spec's code for what is missing or malformed.
    static Request parse(const std::function<const char *(const char *)> &getenv_fn, const std::string &stdin_text);
};

// The largest input the plugin reads: a network configuration is a few kilobytes, and a
// runtime sending more is broken (or hostile).
inline constexpr std::size_t kMaxConfigBytes = 1 << 20;

} // namespace fp::cni

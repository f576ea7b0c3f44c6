// A container as the daemon needs it, read from the runtime's inspect answer
// (Podman's GET /v4.0.0/libpod/containers/{id}/json or Docker's
// GET /containers/{id}/json, which share these fields): its labels, its address and MAC
// on each network, and its published ports.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace fp {

struct ContainerNetwork {
    std::string ip;  // IPv4 ("" when it has none on that network)
    std::string mac;
    std::string ip6 = {}; // GlobalIPv6Address ("" when it has none)
};

struct PublishedPort {
    std::uint16_t host_port;
    std::uint16_t container_port;
    std::uint8_t proto; // 6 or 17
};

struct ContainerInfo {
    std::string id;
    std::string name; // without Docker's leading '/'
    std::map<std::string, std::string> labels;
    std::map<std::string, ContainerNetwork> networks;
    std::vector<PublishedPort> published;
    bool running = false;
    int pid = 0;             // State.Pid: its first process (0 when not running)
    std::string sandbox_key; // NetworkSettings.SandboxKey: the runtime's bind mount of its netns
};

// Throws fp::Error naming the field for an answer without Id, or with a malformed port.
ContainerInfo parse_container_inspect(const nlohmann::json &j);

// The container's network namespace: its SandboxKey when that path exists here, else
// /proc/PID/ns/net. Throws when neither is known.
std::string container_netns_path(const ContainerInfo &c);

} // namespace fp

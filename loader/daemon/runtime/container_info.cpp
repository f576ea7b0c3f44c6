#include "container_info.hpp"

#include <filesystem>

#include "error.hpp"
#include "port_spec.hpp"

namespace fp {

namespace {

std::string string_at(const nlohmann::json &j, const char *key)
{
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

// "Ports": {"80/tcp": [{"HostIp": "", "HostPort": "8080"}], "53/udp": null}: a null or empty
// list is an exposed port that is not published.
void read_ports(const nlohmann::json &ports, std::vector<PublishedPort> &out)
{
    if (!ports.is_object())
        return;
    for (const auto &[key, bindings] : ports.items()) {
        const LabelPort inside = parse_port_proto(key);
        if (!bindings.is_array())
            continue;
        for (const auto &b : bindings) {
            const std::string host = string_at(b, "HostPort");
            if (host.empty())
                continue;
            out.push_back({parse_ports(host).first, inside.ports.first, inside.proto});
        }
    }
}

} // namespace

ContainerInfo parse_container_inspect(const nlohmann::json &j)
{
    ContainerInfo c;
    c.id = string_at(j, "Id");
    if (c.id.empty())
        throw Error("container inspect answer has no Id");
    c.name = string_at(j, "Name");
    if (!c.name.empty() && c.name.front() == '/')
        c.name.erase(0, 1);
    if (const auto config = j.find("Config"); config != j.end() && config->contains("Labels") &&
                                              (*config)["Labels"].is_object())
        for (const auto &[k, v] : (*config)["Labels"].items())
            if (v.is_string())
                c.labels[k] = v.get<std::string>();
    if (const auto state = j.find("State"); state != j.end() && state->is_object()) {
        if (const auto r = state->find("Running"); r != state->end() && r->is_boolean())
            c.running = r->get<bool>();
        if (const auto p = state->find("Pid"); p != state->end() && p->is_number_integer())
            c.pid = p->get<int>();
    }
    const auto settings = j.find("NetworkSettings");
    if (settings == j.end() || !settings->is_object())
        return c;
    c.sandbox_key = string_at(*settings, "SandboxKey");
    if (const auto nets = settings->find("Networks"); nets != settings->end() && nets->is_object())
        for (const auto &[name, n] : nets->items())
            c.networks[name] =
                ContainerNetwork{string_at(n, "IPAddress"), string_at(n, "MacAddress"), string_at(n, "GlobalIPv6Address")};
    if (const auto ports = settings->find("Ports"); ports != settings->end()) {
        try {
            read_ports(*ports, c.published);
        } catch (const Error &e) {
            throw Error("container " + c.id.substr(0, 12) + ": NetworkSettings.Ports: " + e.what());
        }
    }
    return c;
}

std::string container_netns_path(const ContainerInfo &c)
{
    if (!c.sandbox_key.empty() && std::filesystem::exists(c.sandbox_key))
        return c.sandbox_key;
    if (c.pid > 0)
        return "/proc/" + std::to_string(c.pid) + "/ns/net";
    throw Error("container " + c.name + " has no network namespace this host can see (no SandboxKey, no Pid)");
}

} // namespace fp

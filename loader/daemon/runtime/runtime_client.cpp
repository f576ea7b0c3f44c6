#include "runtime_client.hpp"

#include <filesystem>

#include "error.hpp"
#include "http_transport.hpp"

namespace fp {

namespace {

constexpr const char *kPodmanSocket = "/run/podman/podman.sock";
constexpr const char *kDockerSocket = "/var/run/docker.sock";

} // namespace

std::string find_runtime_socket(const std::string &given)
{
    if (!given.empty())
        return given;
    for (const char *candidate : {kPodmanSocket, kDockerSocket})
        if (std::filesystem::exists(candidate))
            return candidate;
    throw Error(std::string("no container runtime socket found (tried ") + kPodmanSocket + " and " + kDockerSocket +
                "); give one with --runtime-api or RUNTIME_API");
}

RuntimeClient::RuntimeClient(const std::string &socket) : api_(socket)
{
    try {
        if (api_.get("/v4.0.0/libpod/_ping") == "OK")
            return; // Podman
    } catch (const Error &) {
        // Docker refuses the libpod path (or something else listens): ask the plain way.
    }
    if (api_.get("/_ping") != "OK")
        throw Error(socket + ": the answer to GET /_ping is not OK: not a Podman or Docker API");
    podman_ = false;
}

std::string RuntimeClient::describe() const
{
    return std::string(podman_ ? "podman" : "docker") + " at " + api_.socket_path();
}

std::vector<std::string> RuntimeClient::running_with_label(const std::string &label, const std::string &value) const
{
    const nlohmann::json filters = {{"label", {label + "=" + value}}};
    const nlohmann::json list = api_.get_json(prefix() + "/containers/json?filters=" + url_escape(filters.dump()));
    std::vector<std::string> ids;
    for (const auto &c : list) {
        // The runtime filtered already; check again so that a runtime ignoring the filter
        // cannot make the daemon take unlabelled containers.
        const auto labels = c.find("Labels");
        if (labels == c.end() || !labels->is_object())
            continue;
        const auto it = labels->find(label);
        if (it != labels->end() && it->is_string() && *it == value && c.contains("Id") && c["Id"].is_string())
            ids.push_back(c["Id"].get<std::string>());
    }
    return ids;
}

std::optional<ContainerInfo> RuntimeClient::inspect(const std::string &id) const
{
    const auto j = api_.get_json_unless_missing(prefix() + "/containers/" + url_escape(id) + "/json");
    if (!j)
        return std::nullopt;
    return parse_container_inspect(*j);
}

RuntimeApi::StreamEnd RuntimeClient::follow_events(std::time_t since,
                                                   const std::function<bool(std::string_view)> &on_line,
                                                   const RuntimeApi::FollowOptions &opts) const
{
    const std::string query = podman_ ? "/events?stream=true&since=" : "/events?since=";
    return api_.follow(prefix() + query + std::to_string(since), on_line, opts);
}

} // namespace fp

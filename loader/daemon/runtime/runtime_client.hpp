// The container runtime the daemon follows, over its REST API: which runtime answers
// on the socket (Podman's libpod API or Docker's), and the three things the daemon asks
// of it in that runtime's dialect: the running containers, one container's details,
// and the event stream.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "container_info.hpp"
#include "runtime_api.hpp"

namespace fp {

// The socket to use: `given` when not empty, else the first of Podman's
// /run/podman/podman.sock and Docker's /var/run/docker.sock that exists. Throws naming
// the paths tried when there is none.
std::string find_runtime_socket(const std::string &given);

class RuntimeClient {
public:
    // Pings the socket to learn the runtime: Podman answers its libpod _ping, Docker only
    // the plain one. Throws when neither answers.
    explicit RuntimeClient(const std::string &socket);

    std::string describe() const; // "podman at /run/podman/podman.sock"

    // IDs of the running containers whose label `label` has the value `value`.
    std::vector<std::string> running_with_label(const std::string &label, const std::string &value) const;
    // nullopt when the runtime no longer knows the container.
    std::optional<ContainerInfo> inspect(const std::string &id) const;
    // Events from `since` (seconds since the epoch: what happened meanwhile is replayed)
    // until the runtime ends the stream or opts.stop is set; each line to on_line.
    RuntimeApi::StreamEnd follow_events(std::time_t since, const std::function<bool(std::string_view)> &on_line,
                                        const RuntimeApi::FollowOptions &opts) const;

private:
    std::string prefix() const { return podman_ ? "/v4.0.0/libpod" : ""; } // of every path

    RuntimeApi api_;
    bool podman_ = true; // else Docker
};

} // namespace fp

// One line of the container runtime's event stream, as the daemon needs it. Podman's
// libpod events and Docker's share a shape ({"Type", "Action", "Actor": {"ID",
// "Attributes"}}) but not all their words: a container that stops is "died" in Podman
// and "die" in Docker, one that goes away "remove" and "destroy".
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace fp {

enum class EventKind { Start, Died, Removed, NetworkConnect, NetworkDisconnect, Other };

struct RuntimeEvent {
    EventKind kind = EventKind::Other;
    std::string container_id;                     // for network events too: the container (dis)connected
    std::map<std::string, std::string> attributes; // the actor's (labels, name, network, ...)
};

// nullopt, with why set, for a line that is not an event (not JSON, or without Type,
// Action or Actor.ID): the stream goes on after it.
std::optional<RuntimeEvent> parse_runtime_event(std::string_view line, std::string *why);

} // namespace fp

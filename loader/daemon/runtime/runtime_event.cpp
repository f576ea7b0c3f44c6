#include "runtime_event.hpp"

#include <nlohmann/json.hpp>

namespace fp {

namespace {

EventKind kind_of(const std::string &type, const std::string &action)
{
    if (type == "container") {
        if (action == "start")
            return EventKind::Start;
        if (action == "died" || action == "die")
            return EventKind::Died;
        if (action == "remove" || action == "destroy")
            return EventKind::Removed;
    } else if (type == "network") {
        if (action == "connect")
            return EventKind::NetworkConnect;
        if (action == "disconnect")
            return EventKind::NetworkDisconnect;
    }
    return EventKind::Other;
}

} // namespace

std::optional<RuntimeEvent> parse_runtime_event(std::string_view line, std::string *why)
{
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) {
        *why = "not a JSON object";
        return std::nullopt;
    }
    const auto type = j.find("Type"), action = j.find("Action"), actor = j.find("Actor");
    if (type == j.end() || !type->is_string() || action == j.end() || !action->is_string() || actor == j.end() ||
        !actor->is_object() || !actor->contains("ID") || !(*actor)["ID"].is_string()) {
        *why = "no Type, Action or Actor.ID";
        return std::nullopt;
    }
    RuntimeEvent e;
    e.kind = kind_of(type->get<std::string>(), action->get<std::string>());
    if (const auto attrs = actor->find("Attributes"); attrs != actor->end() && attrs->is_object())
        for (const auto &[k, v] : attrs->items())
            if (v.is_string())
                e.attributes[k] = v.get<std::string>();
    // Docker's network event has the network as its actor and the container as an
    // attribute; Podman's has the container as its actor.
    const bool network = e.kind == EventKind::NetworkConnect || e.kind == EventKind::NetworkDisconnect;
    const auto container = e.attributes.find("container");
    e.container_id = network && container != e.attributes.end() ? container->second : (*actor)["ID"].get<std::string>();
    return e;
}

} // namespace fp

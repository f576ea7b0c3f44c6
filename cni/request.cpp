#include "request.hpp"

#include <algorithm>
#include <sstream>

#include "cni_error.hpp"

namespace fp::cni {

namespace {

Command parse_command(const char *value)
{
    const std::string c = value ? value : "";
    if (c == "ADD") return Command::Add;
    if (c == "DEL") return Command::Del;
    if (c == "CHECK") return Command::Check;
    if (c == "GC") return Command::Gc;
    if (c == "STATUS") return Command::Status;
    if (c == "VERSION") return Command::Version;
    throw CniError(ErrorCode::InvalidEnvironment, c.empty() ? "CNI_COMMAND is not set" : "unknown CNI_COMMAND '" + c + "'");
}

std::map<std::string, std::string> parse_args(const std::string &text)
{
    std::map<std::string, std::string> out;
    std::istringstream in(text);
    for (std::string pair; std::getline(in, pair, ';');) {
        if (pair.empty())
            continue;
        const auto eq = pair.find('=');
        if (eq == std::string::npos || eq == 0)
            throw CniError(ErrorCode::InvalidEnvironment, "CNI_ARGS entry '" + pair + "' is not KEY=VALUE");
        out[pair.substr(0, eq)] = pair.substr(eq + 1);
    }
    return out;
}

std::vector<std::string> parse_path(const std::string &text)
{
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string dir; std::getline(in, dir, ':');)
        if (!dir.empty())
            out.push_back(dir);
    return out;
}

} // namespace

Request Request::parse(const std::function<const char *(const char *)> &getenv_fn, const std::string &stdin_text)
{
    Request r;
    r.command = parse_command(getenv_fn("CNI_COMMAND"));
    if (stdin_text.size() > kMaxConfigBytes)
        throw CniError(ErrorCode::DecodeFailure, "the network configuration on stdin is larger than 1 MiB");
    try {
        r.config = nlohmann::json::parse(stdin_text);
    } catch (const nlohmann::json::parse_error &e) {
        throw CniError(ErrorCode::DecodeFailure, "the network configuration on stdin is not JSON", e.what());
    }
    if (!r.config.is_object())
        throw CniError(ErrorCode::DecodeFailure, "the network configuration on stdin is not a JSON object");
    if (!r.config.contains("cniVersion") || !r.config["cniVersion"].is_string())
        throw CniError(ErrorCode::DecodeFailure, "the network configuration has no \"cniVersion\" string");
    r.cni_version = r.config["cniVersion"];
    if (std::find(kSupportedVersions.begin(), kSupportedVersions.end(), r.cni_version) == kSupportedVersions.end())
        throw CniError(ErrorCode::IncompatibleVersion, "CNI version " + r.cni_version + " is not supported",
                       "supported: 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0");
    if (r.command == Command::Version || r.command == Command::Status || r.command == Command::Gc)
        return r;

    const auto need = [&](const char *name) {
        const char *v = getenv_fn(name);
        if (!v || !*v)
            throw CniError(ErrorCode::InvalidEnvironment, std::string(name) + " is not set");
        return std::string(v);
    };
    r.container_id = need("CNI_CONTAINERID");
    r.ifname = need("CNI_IFNAME");
    if (r.ifname.size() > 15 || r.ifname.find('/') != std::string::npos)
        throw CniError(ErrorCode::InvalidEnvironment, "CNI_IFNAME '" + r.ifname + "' is not a valid interface name");
    // DEL must work when the namespace is already gone, so CNI_NETNS may be empty there.
    if (r.command == Command::Del) {
        const char *ns = getenv_fn("CNI_NETNS");
        r.netns = ns ? ns : "";
    } else {
        r.netns = need("CNI_NETNS");
    }
    const char *path = getenv_fn("CNI_PATH");
    r.path = parse_path(path ? path : "");
    const char *args = getenv_fn("CNI_ARGS");
    r.args = parse_args(args ? args : "");
    return r;
}

} // namespace fp::cni

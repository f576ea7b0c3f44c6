#include "invocation_log.hpp"

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>

#include "net_config.hpp"

namespace fp::cni {

namespace {

const char *command_name(Command c)
{
    switch (c) {
    case Command::Add: return "ADD";
    case Command::Del: return "DEL";
    case Command::Check: return "CHECK";
    case Command::Gc: return "GC";
    case Command::Status: return "STATUS";
    case Command::Version: return "VERSION";
    }
    return "?";
}

} // namespace

void InvocationLog::open_for(const Request &req)
{
    std::string dir = kStateDirDefault;
    if (req.config.contains("stateDir") && req.config["stateDir"].is_string())
        dir = req.config["stateDir"];
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    const std::string path = dir + "/" + kInvocationLogName;
    // Rotated by size: the log that is too long becomes the previous one (a plugin that
    // has it open goes on appending there, which loses nothing).
    if (std::filesystem::file_size(path, ec) >= kInvocationLogMaxBytes && !ec)
        std::filesystem::rename(path, dir + "/" + kInvocationLogPrevious, ec);
    out_.open(path, std::ios::app);
    prefix_ = std::string(command_name(req.command)) + " " + req.config.value("name", std::string("?")) + " " +
              req.container_id + " " + req.ifname;
    // The runtime's name for the container (Podman passes it), so that `flatpath logs
    // --container NAME` finds the plugin's lines too.
    if (const auto name = req.args.find("K8S_POD_NAME"); name != req.args.end() && !name->second.empty())
        prefix_ += " name=" + name->second;
}

void InvocationLog::write(const std::string &outcome)
{
    if (!out_)
        return;
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    std::tm tm{};
    ::gmtime_r(&now.tv_sec, &tm);
    char when[40];
    const std::size_t n = std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(when + n, sizeof when - n, ".%06ldZ", now.tv_nsec / 1000);
    out_ << when << " " << prefix_ << ": " << outcome << "\n";
}

} // namespace fp::cni

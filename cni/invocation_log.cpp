#include "invocation_log.hpp"

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
    out_.open(dir + "/flatpath-cni.log", std::ios::app);
    prefix_ = std::string(command_name(req.command)) + " " + req.config.value("name", std::string("?")) + " " +
              req.container_id + " " + req.ifname;
}

void InvocationLog::write(const std::string &outcome)
{
    if (!out_)
        return;
    char when[32];
    const std::time_t now = std::time(nullptr);
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    out_ << when << " " << prefix_ << ": " << outcome << "\n";
}

} // namespace fp::cni

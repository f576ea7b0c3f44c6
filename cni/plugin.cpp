#include "plugin.hpp"

#include "attachment.hpp"
#include "cni_error.hpp"
#include "net_config.hpp"

namespace fp::cni {

nlohmann::json version_result(const Request &req)
{
    return {{"cniVersion", req.cni_version}, {"supportedVersions", kSupportedVersions}};
}

nlohmann::json run(const Request &req)
{
    switch (req.command) {
    case Command::Version:
        return version_result(req);
    case Command::Add:
        return add(req, NetConfig::parse(req));
    case Command::Del:
        del(req, NetConfig::parse(req));
        return nullptr;
    case Command::Check:
        check(req, NetConfig::parse(req));
        return nullptr;
    case Command::Gc:
        gc(req, NetConfig::parse(req));
        return nullptr;
    case Command::Status:
        status(NetConfig::parse(req));
        return nullptr;
    }
    throw CniError(ErrorCode::InvalidEnvironment, "unknown command");
}

} // namespace fp::cni

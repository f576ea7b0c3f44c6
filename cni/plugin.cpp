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
    default:
        throw CniError(ErrorCode::UnsupportedField, "this build of flatpath-cni does not implement this command yet");
    }
}

} // namespace fp::cni

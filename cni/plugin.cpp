#include "plugin.hpp"

#include "cni_error.hpp"

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
    default:
        throw CniError(ErrorCode::UnsupportedField, "this build of flatpath-cni does not implement this command yet");
    }
}

} // namespace fp::cni

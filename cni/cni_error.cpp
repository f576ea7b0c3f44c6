#include "cni_error.hpp"

namespace fp::cni {

nlohmann::json CniError::to_json(const std::string &cni_version) const
{
    nlohmann::json j{{"cniVersion", cni_version}, {"code", static_cast<int>(code_)}, {"msg", what()}};
    if (!details_.empty())
        j["details"] = details_;
    return j;
}

} // namespace fp::cni

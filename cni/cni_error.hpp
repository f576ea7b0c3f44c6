// A CNI error: the code the spec gives its kind, a message and details. The plugin
// prints it as the spec's error JSON on stdout and exits non-zero.
#pragma once

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>

namespace fp::cni {

// CNI spec 1.1.0, "Error": well-known codes.
enum class ErrorCode : int {
    IncompatibleVersion = 1,
    UnsupportedField = 2,
    UnknownContainer = 3,
    InvalidEnvironment = 4,
    IoFailure = 5,
    DecodeFailure = 6,
    InvalidConfig = 7,
    TryAgainLater = 11,
    PluginNotAvailable = 50,
    LimitedConnectivity = 51,
    // flatpath-cni's own (the spec leaves 100 and up to plugins):
    NoFreeAddress = 100,
    AddressInUse = 101,
    InterfaceExists = 102,
    AttachmentBroken = 103, // CHECK
};

class CniError : public std::runtime_error {
public:
    CniError(ErrorCode code, const std::string &msg, std::string details = "")
        : std::runtime_error(msg), code_(code), details_(std::move(details)) {}

    ErrorCode code() const { return code_; }
    const std::string &details() const { return details_; }
    nlohmann::json to_json(const std::string &cni_version) const;

private:
    ErrorCode code_;
    std::string details_;
};

} // namespace fp::cni

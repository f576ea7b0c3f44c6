// The one error type of flatpath's C++ code: a message that already says what
// failed, on which object and why. Thrown where the failure is found, printed
// once by the CLI (or turned into CNI error JSON by the plugin).
#pragma once

#include <stdexcept>
#include <string>

namespace fp {

class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// "what: strerror(err)". err is a positive errno value (libbpf returns -errno: negate it).
[[noreturn]] void throw_errno(const std::string &what, int err);

} // namespace fp

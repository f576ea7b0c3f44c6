#include "error.hpp"

#include <cstring>

namespace fp {

void throw_errno(const std::string &what, int err)
{
    throw Error(what + ": " + std::strerror(err));
}

} // namespace fp

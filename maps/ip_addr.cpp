#include "ip_addr.hpp"

#include <arpa/inet.h>

#include "error.hpp"

namespace fp {

namespace {
constexpr unsigned char kV4MappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
}

IpAddr IpAddr::parse(std::string_view text)
{
    const std::string s(text);
    IpAddr a;
    in_addr v4{};
    if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
        std::memcpy(a.raw_.b, kV4MappedPrefix, sizeof kV4MappedPrefix);
        std::memcpy(a.raw_.b + 12, &v4, 4);
        return a;
    }
    if (s.find('.') == std::string::npos && inet_pton(AF_INET6, s.c_str(), a.raw_.b) == 1) {
        if (!a.is_v4())
            return a;
    }
    throw Error("'" + s + "' is not an IPv4 or IPv6 address");
}

IpAddr IpAddr::from_raw(const fp_addr &raw)
{
    IpAddr a;
    a.raw_ = raw;
    return a;
}

bool IpAddr::is_v4() const
{
    return std::memcmp(raw_.b, kV4MappedPrefix, sizeof kV4MappedPrefix) == 0;
}

std::string IpAddr::str() const
{
    char buf[INET6_ADDRSTRLEN] = {};
    if (is_v4())
        inet_ntop(AF_INET, raw_.b + 12, buf, sizeof buf);
    else
        inet_ntop(AF_INET6, raw_.b, buf, sizeof buf);
    return buf;
}

} // namespace fp

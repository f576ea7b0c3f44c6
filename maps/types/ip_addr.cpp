#include "ip_addr.hpp"

#include <arpa/inet.h>

#include <algorithm>

#include "error.hpp"

namespace fp {

namespace {
constexpr unsigned char kV4MappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
}

std::optional<IpAddr> IpAddr::try_parse(std::string_view text)
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
    return std::nullopt;
}

IpAddr IpAddr::parse(std::string_view text)
{
    if (const auto a = try_parse(text))
        return *a;
    throw Error("'" + std::string(text) + "' is not an IPv4 or IPv6 address");
}

IpAddr IpAddr::from_raw(const fp_addr &raw)
{
    IpAddr a;
    a.raw_ = raw;
    return a;
}

IpAddr IpAddr::any_of_family() const
{
    return parse(is_v4() ? "0.0.0.0" : "::");
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

std::string_view IpAddr::special_use() const
{
    const std::uint8_t *b = raw_.b;
    if (is_v4()) {
        const std::uint8_t *v4 = b + 12;
        if (v4[0] == 0)
            return "unspecified";
        if (v4[0] == 127)
            return "loopback";
        if (v4[0] == 169 && v4[1] == 254)
            return "link-local";
        if (v4[0] >= 224 && v4[0] <= 239)
            return "multicast";
        if (v4[0] == 255 && v4[1] == 255 && v4[2] == 255 && v4[3] == 255)
            return "broadcast";
        if (v4[0] >= 240)
            return "reserved";
        return "";
    }
    static constexpr std::uint8_t kLoopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    if (std::all_of(b, b + 16, [](std::uint8_t x) { return x == 0; }))
        return "unspecified";
    if (std::memcmp(b, kLoopback, 16) == 0)
        return "loopback";
    if (b[0] == 0xff)
        return "multicast";
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
        return "link-local";
    return "";
}

std::string IpAddr::with_port(std::string_view port) const
{
    return (is_v4() ? str() : "[" + str() + "]") + ":" + std::string(port);
}

} // namespace fp

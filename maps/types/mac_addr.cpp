#include "mac_addr.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "error.hpp"

namespace fp {

MacAddr MacAddr::from(const std::uint8_t *six_bytes)
{
    Bytes b;
    std::memcpy(b.data(), six_bytes, b.size());
    return MacAddr(b);
}

MacAddr MacAddr::parse(std::string_view text)
{
    const auto bad = [&] { return Error("'" + std::string(text) + "' is not a MAC address (want 02:00:00:00:00:01)"); };
    if (text.size() != 17)
        throw bad();
    Bytes b;
    for (std::size_t i = 0; i < 6; ++i) {
        const auto hex = [&](char c) -> int {
            if (c >= '0' && c <= '9') return c - '0';
            if (c >= 'a' && c <= 'f') return c - 'a' + 10;
            if (c >= 'A' && c <= 'F') return c - 'A' + 10;
            throw bad();
        };
        const std::size_t at = i * 3;
        if (i < 5 && text[at + 2] != ':' && text[at + 2] != '-')
            throw bad();
        b[i] = static_cast<std::uint8_t>(hex(text[at]) << 4 | hex(text[at + 1]));
    }
    return MacAddr(b);
}

bool MacAddr::is_zero() const
{
    return std::all_of(bytes_.begin(), bytes_.end(), [](std::uint8_t v) { return v == 0; });
}

std::string MacAddr::str() const
{
    char buf[18];
    std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", bytes_[0], bytes_[1], bytes_[2],
                  bytes_[3], bytes_[4], bytes_[5]);
    return buf;
}

void MacAddr::copy_to(std::uint8_t *six_bytes) const
{
    std::memcpy(six_bytes, bytes_.data(), bytes_.size());
}

} // namespace fp

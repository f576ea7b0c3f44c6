// An Ethernet MAC address.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace fp {

class MacAddr {
public:
    using Bytes = std::array<std::uint8_t, 6>;

    MacAddr() = default;
    explicit MacAddr(const Bytes &bytes) : bytes_(bytes) {}
    static MacAddr from(const std::uint8_t *six_bytes);
    // Parses "02:00:00:00:00:01" (also with '-'); throws fp::Error naming the text otherwise.
    static MacAddr parse(std::string_view text);

    bool is_zero() const;
    bool is_multicast() const { return (bytes_[0] & 1) != 0; }
    std::string str() const;
    const Bytes &bytes() const { return bytes_; }
    void copy_to(std::uint8_t *six_bytes) const;

    friend bool operator==(const MacAddr &, const MacAddr &) = default;

private:
    Bytes bytes_{};
};

} // namespace fp

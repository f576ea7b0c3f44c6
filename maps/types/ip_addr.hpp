// An IPv4 or IPv6 address as the datapath keys it (IPv4-mapped, see fp_addr).
#pragma once

#include <compare>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "flatpath_abi.h"

namespace fp {

class IpAddr {
public:
    // Parses "10.0.0.1" or "fd00::1"; throws fp::Error naming the text otherwise.
    static IpAddr parse(std::string_view text);
    // The same, nullopt for what is no address (a device name, say).
    static std::optional<IpAddr> try_parse(std::string_view text);
    static IpAddr from_raw(const fp_addr &raw);

    bool is_v4() const;
    std::string str() const;
    // "" for an ordinary unicast address; else what it is ("unspecified", "loopback",
    // "multicast", "broadcast", "link-local", "reserved"): none of those can be an
    // endpoint's own address or one a port is published on.
    std::string_view special_use() const;
    // "10.0.0.1:80" or "[fd00::1]:80": how an address with a port (or range) is typed.
    std::string with_port(std::string_view port) const;
    const fp_addr &raw() const { return raw_; }
    // The unspecified address of this one's family (0.0.0.0 or ::): the key of "any host
    // address" entries, which never let an IPv4 client reach an IPv6 backend.
    IpAddr any_of_family() const;
    bool is_any() const { return *this == any_of_family(); }

    friend bool operator==(const IpAddr &a, const IpAddr &b)
    {
        return std::memcmp(a.raw_.b, b.raw_.b, sizeof a.raw_.b) == 0;
    }
    friend std::strong_ordering operator<=>(const IpAddr &a, const IpAddr &b)
    {
        return std::memcmp(a.raw_.b, b.raw_.b, sizeof a.raw_.b) <=> 0;
    }

private:
    fp_addr raw_{};
};

} // namespace fp

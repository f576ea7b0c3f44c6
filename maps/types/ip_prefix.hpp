// An IPv4 or IPv6 prefix ("10.88.0.0/16", "fd88::/64") as the datapath's LPM tries key
// it: on the IPv4-mapped 128-bit form, so an IPv4 /16 is 96 + 16 bits long.
#pragma once

#include <string>
#include <string_view>

#include "ip_addr.hpp"

namespace fp {

struct IpPrefix {
    IpAddr network;
    int len = 0; // in its own family's bits: 0-32 or 0-128

    // Throws fp::Error naming the text: not an address, a bad length, host bits set.
    static IpPrefix parse(std::string_view text);
    // The prefix of len bits that holds addr (its host bits cleared).
    static IpPrefix of(const IpAddr &addr, int len);
    bool is_v4() const { return network.is_v4(); }
    int len128() const { return is_v4() ? 96 + len : len; }
    IpAddr last() const; // every host bit set (IPv4: the broadcast address)
    bool contains(const IpAddr &a) const;
    bool overlaps(const IpPrefix &other) const; // one holds the other
    std::string str() const;
    friend bool operator==(const IpPrefix &, const IpPrefix &) = default;
    friend auto operator<=>(const IpPrefix &, const IpPrefix &) = default;
};

} // namespace fp

#include "ip_prefix.hpp"

#include <algorithm>
#include <charconv>

#include "error.hpp"

namespace fp {

namespace {

// addr with every bit after the first prefix128 set to `ones`.
IpAddr with_host_bits(const IpAddr &addr, int prefix128, bool ones)
{
    fp_addr out = addr.raw();
    for (int bit = prefix128; bit < 128; ++bit) {
        const auto mask = static_cast<std::uint8_t>(0x80u >> (bit % 8));
        out.b[bit / 8] = static_cast<std::uint8_t>(ones ? out.b[bit / 8] | mask : out.b[bit / 8] & ~mask);
    }
    return IpAddr::from_raw(out);
}

} // namespace

IpPrefix IpPrefix::parse(std::string_view text)
{
    const auto slash = text.find('/');
    if (slash == std::string_view::npos)
        throw Error("'" + std::string(text) + "' is not a prefix (ADDRESS/LENGTH, e.g. 10.88.0.0/16)");
    const IpAddr addr = IpAddr::parse(text.substr(0, slash));
    const std::string_view len_text = text.substr(slash + 1);
    const int max = addr.is_v4() ? 32 : 128;
    int len = -1;
    const auto [end, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
    if (ec != std::errc{} || end != len_text.data() + len_text.size() || len < 0 || len > max)
        throw Error("'" + std::string(text) + "': the prefix length must be 0-" + std::to_string(max));
    const IpPrefix p = of(addr, len);
    if (p.network != addr)
        throw Error("'" + std::string(text) + "' has host bits set (the prefix is " + p.str() + ")");
    return p;
}

IpPrefix IpPrefix::of(const IpAddr &addr, int len)
{
    return {with_host_bits(addr, addr.is_v4() ? 96 + len : len, false), len};
}

IpAddr IpPrefix::last() const
{
    return with_host_bits(network, len128(), true);
}

bool IpPrefix::contains(const IpAddr &a) const
{
    return a.is_v4() == is_v4() && of(a, len).network == network;
}

bool IpPrefix::overlaps(const IpPrefix &other) const
{
    const int common = std::min(len, other.len);
    return is_v4() == other.is_v4() && of(network, common) == of(other.network, common);
}

std::string IpPrefix::str() const
{
    return network.str() + "/" + std::to_string(len);
}

} // namespace fp

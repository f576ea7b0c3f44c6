#include "ip_pool.hpp"

#include <cstring>

#include "cni_error.hpp"
#include "ip_prefix.hpp"

namespace fp::cni {

namespace {

IpAddr parse_addr(const std::string &text, const char *what)
{
    try {
        return IpAddr::parse(text);
    } catch (const std::exception &e) {
        throw CniError(ErrorCode::InvalidConfig, std::string(what) + ": " + e.what());
    }
}

} // namespace

int addr_compare(const IpAddr &a, const IpAddr &b)
{
    return std::memcmp(a.raw().b, b.raw().b, 16);
}

IpAddr addr_add(const IpAddr &a, std::uint64_t n)
{
    fp_addr raw = a.raw();
    for (int i = 15; i >= 0 && n; --i) {
        const std::uint64_t sum = raw.b[i] + (n & 0xff);
        raw.b[i] = static_cast<std::uint8_t>(sum);
        n = (n >> 8) + (sum >> 8);
    }
    return IpAddr::from_raw(raw);
}

IpAddr addr_minus_one(const IpAddr &a)
{
    fp_addr raw = a.raw();
    for (int i = 15; i >= 0; --i)
        if (raw.b[i]-- != 0)
            break;
    return IpAddr::from_raw(raw);
}

IpPool IpPool::parse(const std::string &subnet, const std::string &first, const std::string &last,
                     const std::string &gateway)
{
    const auto slash = subnet.find('/');
    if (slash == std::string::npos)
        throw CniError(ErrorCode::InvalidConfig, "subnet '" + subnet + "' needs a prefix length (10.88.0.0/16)");
    IpPool p;
    const IpAddr base = parse_addr(subnet.substr(0, slash), "subnet");
    int prefix = -1;
    try {
        std::size_t used = 0;
        prefix = std::stoi(subnet.substr(slash + 1), &used);
        if (used != subnet.size() - slash - 1)
            prefix = -1;
    } catch (const std::exception &) {
    }
    const int max = base.is_v4() ? 32 : 128;
    // At least 2 usable addresses: a /31 or /127 (or smaller) is not a container network.
    if (prefix < 1 || prefix > max - 2)
        throw CniError(ErrorCode::InvalidConfig, "subnet '" + subnet + "' has a bad prefix length (1-" +
                                                     std::to_string(max - 2) + ")");
    p.prefix_ = prefix;
    const IpPrefix whole = IpPrefix::of(base, prefix);
    p.network_ = whole.network;
    if (p.network_ != base)
        throw CniError(ErrorCode::InvalidConfig, "subnet '" + subnet + "' has host bits set (did you mean " +
                                                     p.network_.str() + "/" + std::to_string(prefix) + "?)");
    const IpAddr broadcast = whole.last();
    p.first_ = first.empty() ? addr_add(p.network_, 1) : parse_addr(first, "rangeStart");
    // By default the range ends before the IPv4 broadcast address (IPv6 has none).
    p.last_ = last.empty() ? (base.is_v4() ? addr_minus_one(broadcast) : broadcast) : parse_addr(last, "rangeEnd");
    if (!gateway.empty())
        p.gateway_ = parse_addr(gateway, "gateway");
    const auto inside = [&](const IpAddr &a) {
        return a.is_v4() == base.is_v4() && addr_compare(a, p.network_) >= 0 && addr_compare(a, broadcast) <= 0;
    };
    if (!inside(p.first_) || !inside(p.last_))
        throw CniError(ErrorCode::InvalidConfig, "range " + p.first_.str() + "-" + p.last_.str() + " is not inside " + subnet);
    if (addr_compare(p.first_, p.last_) > 0)
        throw CniError(ErrorCode::InvalidConfig, "range " + p.first_.str() + "-" + p.last_.str() + " is reversed");
    return p;
}

IpPool IpPool::with_gateway(const IpAddr &addr) const
{
    IpPool p = *this;
    p.gateway_ = addr;
    return p;
}

std::string IpPool::subnet() const
{
    return network_.str() + "/" + std::to_string(prefix_);
}

bool IpPool::contains(const IpAddr &a) const
{
    return a.is_v4() == network_.is_v4() && addr_compare(a, first_) >= 0 && addr_compare(a, last_) <= 0;
}

bool IpPool::usable(const IpAddr &a) const
{
    if (!contains(a) || a == network_ || (gateway_ && a == *gateway_))
        return false;
    // The IPv4 broadcast address is never in [first, last] unless a rangeEnd names it.
    return !(network_.is_v4() && a == IpPrefix::of(network_, prefix_).last());
}

IpAddr IpPool::next(const IpAddr &a) const
{
    return addr_compare(a, last_) >= 0 ? first_ : addr_add(a, 1);
}

std::uint64_t IpPool::size() const
{
    constexpr std::uint64_t kCap = 1ULL << 32; // more than any scan will walk
    if (std::memcmp(first_.raw().b, last_.raw().b, 8) != 0)
        return kCap;
    std::uint64_t f = 0, l = 0;
    for (int i = 8; i < 16; ++i) {
        f = f << 8 | first_.raw().b[i];
        l = l << 8 | last_.raw().b[i];
    }
    return l - f >= kCap ? kCap : l - f + 1;
}

} // namespace fp::cni

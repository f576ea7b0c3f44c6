#include "subnet_pool.hpp"

#include <algorithm>
#include <vector>

#include "error.hpp"

namespace fp {

namespace {

// The address's bits from bit `from` (of its family's bits) for `count` bits (≤ 63), as
// a number: the index of a subnet within its network.
std::uint64_t bits_of(const IpAddr &a, int from, int count)
{
    const int base = a.is_v4() ? 96 : 0;
    std::uint64_t v = 0;
    for (int bit = base + from; bit < base + from + count; ++bit)
        v = (v << 1) | ((a.raw().b[bit / 8] >> (7 - bit % 8)) & 1u);
    return v;
}

IpAddr with_bits(const IpAddr &a, int from, int count, std::uint64_t v)
{
    fp_addr raw = a.raw();
    const int base = a.is_v4() ? 96 : 0;
    for (int bit = base + from + count - 1; bit >= base + from; --bit, v >>= 1) {
        const auto mask = static_cast<std::uint8_t>(0x80u >> (bit % 8));
        raw.b[bit / 8] = static_cast<std::uint8_t>((v & 1u) ? raw.b[bit / 8] | mask : raw.b[bit / 8] & ~mask);
    }
    return IpAddr::from_raw(raw);
}

} // namespace

SubnetPool::SubnetPool(const ClusterConfig &config, bool ipv6)
    : network_(ipv6 ? config.ipv6_network.value_or(IpPrefix{}) : config.network.value_or(IpPrefix{})),
      len_(ipv6 ? config.ipv6_subnet_len : config.subnet_len)
{
    if (ipv6 ? !config.ipv6_network : !config.network)
        throw Error(std::string("the cluster config has no ") + (ipv6 ? "IPv6Network" : "Network"));
    // Host subnets are numbered by the bits between the network's length and theirs;
    // more than 2^20 of them is more hosts than any cluster, and keeps the count exact.
    const int index_bits = std::min(len_ - network_.len, 20);
    const std::uint64_t all = std::uint64_t{1} << index_bits;
    const int from = len_ - index_bits;
    std::uint64_t last = all - 1;
    first_ = all > 1 ? 1 : 0;
    if (!ipv6 && config.subnet_min)
        first_ = bits_of(*config.subnet_min, from, index_bits);
    if (!ipv6 && config.subnet_max)
        last = bits_of(*config.subnet_max, from, index_bits);
    if (last < first_)
        throw Error("the cluster config's SubnetMax is below its SubnetMin");
    count_ = last - first_ + 1;
}

IpPrefix SubnetPool::at(std::uint64_t index) const
{
    const int index_bits = std::min(len_ - network_.len, 20);
    return IpPrefix::of(with_bits(network_.network, len_ - index_bits, index_bits, first_ + index), len_);
}

bool SubnetPool::holds(const IpPrefix &subnet) const
{
    if (subnet.len != len_ || !network_.contains(subnet.network))
        return false;
    const int index_bits = std::min(len_ - network_.len, 20);
    // Bits of the network's part past the 20 numbered ones must be zero.
    if (IpPrefix::of(subnet.network, len_ - index_bits) != IpPrefix::of(network_.network, len_ - index_bits))
        return false;
    const std::uint64_t i = bits_of(subnet.network, len_ - index_bits, index_bits);
    return i >= first_ && i < first_ + count_;
}

std::uint64_t SubnetPool::index_of(const IpPrefix &subnet) const
{
    const int index_bits = std::min(len_ - network_.len, 20);
    return bits_of(subnet.network, len_ - index_bits, index_bits) - first_;
}

std::optional<IpPrefix> SubnetPool::pick_free(const std::set<IpPrefix> &taken, std::mt19937_64 &rng) const
{
    std::vector<std::uint64_t> free;
    for (std::uint64_t i = 0; i < count_; ++i)
        if (!taken.contains(at(i)))
            free.push_back(i);
    if (free.empty())
        return std::nullopt;
    return at(free[std::uniform_int_distribution<std::size_t>(0, free.size() - 1)(rng)]);
}

} // namespace fp

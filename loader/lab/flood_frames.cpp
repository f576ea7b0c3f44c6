#include "flood_frames.hpp"

#include <arpa/inet.h>

#include <cstring>

#include "error.hpp"

namespace fp {

namespace {

constexpr std::size_t kEth = 14, kSrcAddr = kEth + 12, kIpCsum = kEth + 10;

std::uint32_t load32(const std::uint8_t *p) { return std::uint32_t{p[0]} << 24 | p[1] << 16 | p[2] << 8 | p[3]; }
std::uint16_t load16(const std::uint8_t *p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
void store32(std::uint8_t *p, std::uint32_t v)
{
    p[0] = static_cast<std::uint8_t>(v >> 24);
    p[1] = static_cast<std::uint8_t>(v >> 16);
    p[2] = static_cast<std::uint8_t>(v >> 8);
    p[3] = static_cast<std::uint8_t>(v);
}
void store16(std::uint8_t *p, std::uint16_t v)
{
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
}

// RFC 1624 eqn. 3: the checksum after 16-bit words `from` became `to` (sums of words).
std::uint16_t csum_update(std::uint16_t check, std::uint32_t from_sum, std::uint32_t to_sum)
{
    std::uint32_t s = static_cast<std::uint16_t>(~check);
    s += static_cast<std::uint32_t>(0xffff - (from_sum % 0xffff)) + to_sum;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return static_cast<std::uint16_t>(~s);
}

std::uint32_t words(std::uint32_t v) { return (v >> 16) + (v & 0xffff); }

} // namespace

FloodFrames::FloodFrames(std::vector<std::uint8_t> templ) : templ_(std::move(templ))
{
    if (templ_.size() < kEth + 20 || load16(&templ_[12]) != 0x0800 || (templ_[kEth] >> 4) != 4)
        throw Error("a flood template must be an untagged IPv4 frame");
    l4_ = kEth + (templ_[kEth] & 0x0f) * 4u;
    const std::uint8_t proto = templ_[kEth + 9];
    if ((proto != IPPROTO_TCP && proto != IPPROTO_UDP) || templ_.size() < l4_ + (proto == IPPROTO_TCP ? 20 : 8))
        throw Error("a flood template must carry a TCP or UDP header");
    l4_csum_ = l4_ + (proto == IPPROTO_TCP ? 16 : 6);
    if (proto == IPPROTO_UDP && load16(&templ_[l4_csum_]) == 0)
        l4_csum_ = 0;
    first_source_ = load32(&templ_[kSrcAddr]);
}

std::uint32_t FloodFrames::source_host_order(std::uint64_t n) const
{
    return first_source_ + static_cast<std::uint32_t>(n / kPortsPerSource);
}

IpAddr FloodFrames::source(std::uint64_t n) const
{
    fp_addr raw{};
    raw.w[2] = htonl(0x0000ffff); // IPv4-mapped, as IpAddr keeps IPv4
    raw.w[3] = htonl(source_host_order(n));
    return IpAddr::from_raw(raw);
}

std::size_t FloodFrames::operator()(std::uint64_t n, std::uint8_t *out) const
{
    std::memcpy(out, templ_.data(), templ_.size());
    const std::uint32_t addr = source_host_order(n);
    const std::uint16_t port = static_cast<std::uint16_t>(kFirstPort + n % kPortsPerSource);
    const std::uint32_t from = words(first_source_) + load16(&templ_[l4_]);
    const std::uint32_t to = words(addr) + port;
    store32(&out[kSrcAddr], addr);
    store16(&out[l4_], port);
    store16(&out[kIpCsum], csum_update(load16(&templ_[kIpCsum]), words(first_source_), words(addr)));
    if (l4_csum_) {
        const std::uint16_t c = csum_update(load16(&templ_[l4_csum_]), from, to);
        store16(&out[l4_csum_], c == 0 && templ_[kEth + 9] == IPPROTO_UDP ? 0xffff : c); // UDP: 0 means none
    }
    return templ_.size();
}

} // namespace fp

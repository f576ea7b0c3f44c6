#include "checksum.hpp"

#include <vector>

namespace fp {

std::uint64_t sum_words(const std::uint8_t *p, std::size_t n, std::uint64_t acc)
{
    for (std::size_t i = 0; i + 1 < n; i += 2)
        acc += static_cast<std::uint64_t>(p[i] << 8 | p[i + 1]);
    if (n & 1)
        acc += static_cast<std::uint64_t>(p[n - 1]) << 8;
    return acc;
}

std::uint16_t fold(std::uint64_t acc)
{
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    return static_cast<std::uint16_t>(acc);
}

std::uint16_t load16(const Bytes &b, std::size_t at) { return static_cast<std::uint16_t>(b[at] << 8 | b[at + 1]); }

std::uint32_t load32(const Bytes &b, std::size_t at)
{
    return std::uint32_t{b[at]} << 24 | std::uint32_t{b[at + 1]} << 16 | std::uint32_t{b[at + 2]} << 8 | b[at + 3];
}

void store16(Bytes &b, std::size_t at, std::uint16_t v)
{
    b[at] = static_cast<std::uint8_t>(v >> 8);
    b[at + 1] = static_cast<std::uint8_t>(v);
}

void update_checksum(Bytes &f, std::size_t field, std::size_t at, const std::uint8_t *before, std::size_t n)
{
    // RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), over the changed 16-bit words. Changes
    // start on even offsets from the checksummed data's start in every use here.
    std::uint64_t acc = static_cast<std::uint16_t>(~load16(f, field));
    std::vector<std::uint8_t> inverted(before, before + n);
    for (auto &b : inverted)
        b = static_cast<std::uint8_t>(~b);
    acc = sum_words(inverted.data(), n, acc);
    acc = sum_words(&f[at], n, acc);
    store16(f, field, static_cast<std::uint16_t>(~fold(acc)));
}

bool checksum_ok(const Bytes &f, std::size_t from, std::size_t to, std::uint64_t pseudo)
{
    return fold(sum_words(&f[from], to - from, pseudo)) == 0xffff;
}

std::uint64_t pseudo_header(const Bytes &f, std::size_t l3, std::uint8_t proto, std::size_t length)
{
    if ((f[l3] >> 4) == 4)
        return sum_words(&f[l3 + 12], 8) + proto + length;
    return sum_words(&f[l3 + 8], 32) + proto + length;
}

} // namespace fp

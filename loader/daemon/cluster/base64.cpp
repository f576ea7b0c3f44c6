#include "base64.hpp"

#include <array>

namespace fp {

namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Each character's 6-bit value, or -1.
constexpr std::array<int, 256> decode_table()
{
    std::array<int, 256> t{};
    t.fill(-1);
    for (std::size_t i = 0; i < kAlphabet.size(); ++i)
        t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int>(i);
    return t;
}

} // namespace

std::string base64_encode(std::string_view bytes)
{
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    for (std::size_t i = 0; i < bytes.size(); i += 3) {
        const std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
        unsigned v = 0;
        for (std::size_t k = 0; k < 3; ++k)
            v = (v << 8) | (k < n ? static_cast<unsigned char>(bytes[i + k]) : 0u);
        for (std::size_t k = 0; k < 4; ++k)
            out += k <= n ? kAlphabet[(v >> (18 - 6 * k)) & 0x3f] : '=';
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view text)
{
    static constexpr std::array<int, 256> table = decode_table();
    if (text.size() % 4 != 0)
        return std::nullopt;
    std::string out;
    out.reserve(text.size() / 4 * 3);
    for (std::size_t i = 0; i < text.size(); i += 4) {
        const bool last = i + 4 == text.size();
        const std::size_t pad = last ? (text[i + 3] == '=') + (text[i + 2] == '=' && text[i + 3] == '=') : 0;
        unsigned v = 0;
        for (std::size_t k = 0; k < 4; ++k) {
            const int c = k < 4 - pad ? table[static_cast<unsigned char>(text[i + k])] : 0;
            if (c < 0)
                return std::nullopt;
            v = (v << 6) | static_cast<unsigned>(c);
        }
        // Canonical only: the bits the padding hides are zero.
        if ((pad == 1 && (v & 0xff)) || (pad == 2 && (v & 0xffff)))
            return std::nullopt;
        for (std::size_t k = 0; k < 3 - pad; ++k)
            out += static_cast<char>((v >> (16 - 8 * k)) & 0xff);
    }
    return out;
}

} // namespace fp

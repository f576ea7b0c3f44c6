#include "packet.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <sstream>

namespace fp {

namespace {

void put16(Bytes &b, std::uint16_t v)
{
    b.push_back(static_cast<std::uint8_t>(v >> 8));
    b.push_back(static_cast<std::uint8_t>(v));
}

void put_bytes(Bytes &b, const std::uint8_t *p, std::size_t n)
{
    b.insert(b.end(), p, p + n);
}

std::uint32_t sum16(const std::uint8_t *p, std::size_t n, std::uint32_t sum = 0)
{
    for (std::size_t i = 0; i + 1 < n; i += 2)
        sum += static_cast<std::uint32_t>(p[i] << 8 | p[i + 1]);
    if (n & 1)
        sum += static_cast<std::uint32_t>(p[n - 1] << 8);
    return sum;
}

std::uint16_t fold(std::uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum);
}

void set16(Bytes &b, std::size_t at, std::uint16_t v)
{
    b[at] = static_cast<std::uint8_t>(v >> 8);
    b[at + 1] = static_cast<std::uint8_t>(v);
}

// The L4 header and payload, checksum field 0; returns the checksum field's offset in it.
Bytes l4_segment(const Packet &p, std::size_t *csum_at)
{
    Bytes u;
    if (p.icmp_quote || p.proto == 1 || p.proto == 58) {
        const std::uint8_t head[8] = {p.icmp_type,
                                      p.icmp_code,
                                      0,
                                      0,
                                      static_cast<std::uint8_t>(p.icmp_rest >> 24),
                                      static_cast<std::uint8_t>(p.icmp_rest >> 16),
                                      static_cast<std::uint8_t>(p.icmp_rest >> 8),
                                      static_cast<std::uint8_t>(p.icmp_rest)};
        // Sized once: GCC 12 at -O3 mistakes growing an 8-byte vector for an overflow.
        u.resize(sizeof head + (p.icmp_quote ? p.icmp_quote->size() : 0));
        std::copy(std::begin(head), std::end(head), u.begin());
        if (p.icmp_quote)
            std::copy(p.icmp_quote->begin(), p.icmp_quote->end(), u.begin() + sizeof head);
        else
            for (std::size_t i = 0; i < p.payload; ++i)
                u.push_back(static_cast<std::uint8_t>('a' + i % 26));
        *csum_at = 2;
        return u;
    }
    put16(u, p.sport);
    put16(u, p.dport);
    if (p.proto == 6) {
        put16(u, static_cast<std::uint16_t>(p.tcp_seq >> 16));
        put16(u, static_cast<std::uint16_t>(p.tcp_seq));
        put16(u, static_cast<std::uint16_t>(p.tcp_ack >> 16));
        put16(u, static_cast<std::uint16_t>(p.tcp_ack));
        const std::uint8_t rest[8] = {0x50, p.tcp_flags, 0xff, 0xff, 0, 0, 0, 0};
        put_bytes(u, rest, sizeof rest); // data offset 5, flags, window, csum 0, urgent 0
        *csum_at = 16;
    } else {
        put16(u, static_cast<std::uint16_t>(8 + p.payload));
        put16(u, 0);
        *csum_at = 6;
    }
    for (std::size_t i = 0; i < p.payload; ++i)
        u.push_back(static_cast<std::uint8_t>('a' + i % 26));
    return u;
}

} // namespace

Bytes Packet::bytes() const
{
    Bytes b;
    put_bytes(b, dst_mac.bytes().data(), 6);
    put_bytes(b, src_mac.bytes().data(), 6);
    if (vlan) {
        put16(b, 0x8100);
        put16(b, *vlan);
    }
    std::size_t csum_at = 0;
    Bytes udp = l4_segment(*this, &csum_at);
    if (l3 == L3::IPv4) {
        put16(b, 0x0800);
        const std::size_t ip = b.size();
        const std::uint16_t total = static_cast<std::uint16_t>(20 + udp.size());
        const std::uint8_t hdr[20] = {0x45, 0, static_cast<std::uint8_t>(total >> 8), static_cast<std::uint8_t>(total),
                                      0x12, 0x34, static_cast<std::uint8_t>(ipv4_frag >> 8),
                                      static_cast<std::uint8_t>(ipv4_frag), ttl, proto, 0, 0};
        put_bytes(b, hdr, 12);
        put_bytes(b, src.raw().b + 12, 4);
        put_bytes(b, dst.raw().b + 12, 4);
        set16(b, ip + 10, fold(sum16(&b[ip], 20)));
        // L4 checksum over the IPv4 pseudo-header (ICMP has none).
        std::uint32_t s = sum16(src.raw().b + 12, 4) + sum16(dst.raw().b + 12, 4) + proto + udp.size();
        if (proto == 1)
            s = 0;
        if (!(proto == 17 && udp_no_checksum))
            set16(udp, csum_at, fold(sum16(udp.data(), udp.size(), s)));
        put_bytes(b, udp.data(), udp.size());
    } else if (l3 == L3::IPv6) {
        put16(b, 0x86dd);
        const std::uint8_t first_next = ipv6_ext.empty() ? proto : ipv6_ext.front();
        const std::uint16_t plen = static_cast<std::uint16_t>(8 * ipv6_ext.size() + udp.size());
        const std::uint8_t hdr[8] = {0x60, 0, 0, 0, static_cast<std::uint8_t>(plen >> 8),
                                     static_cast<std::uint8_t>(plen), first_next, ttl};
        put_bytes(b, hdr, 8);
        put_bytes(b, src.raw().b, 16);
        put_bytes(b, dst.raw().b, 16);
        for (std::size_t i = 0; i < ipv6_ext.size(); ++i) {
            const std::uint8_t next = i + 1 < ipv6_ext.size() ? ipv6_ext[i + 1] : proto;
            // 8 bytes: next header, length 0 (8 bytes), a PadN option filling the rest.
            const std::uint8_t ext[8] = {next, 0, 1, 4, 0, 0, 0, 0};
            put_bytes(b, ext, 8);
        }
        std::uint32_t s = sum16(src.raw().b, 16) + sum16(dst.raw().b, 16) + proto + udp.size();
        set16(udp, csum_at, fold(sum16(udp.data(), udp.size(), s)));
        put_bytes(b, udp.data(), udp.size());
    } else if (l3 == L3::Arp) {
        put16(b, 0x0806);
        const std::uint8_t arp[8] = {0, 1, 8, 0, 6, 4, 0, 1}; // Ethernet/IPv4 request
        put_bytes(b, arp, 8);
        put_bytes(b, src_mac.bytes().data(), 6);
        put_bytes(b, src.raw().b + 12, 4);
        const std::uint8_t zero[6] = {};
        put_bytes(b, zero, 6);
        put_bytes(b, dst.raw().b + 12, 4);
    } else {
        put16(b, 0x0800); // claims IPv4, carries nothing: an Ethernet-only frame
    }
    return b;
}

Bytes Packet::quoted() const
{
    Bytes b = bytes();
    const std::size_t l3 = vlan ? 18 : 14;
    const std::size_t ip_len = this->l3 == L3::IPv4 ? 20 : 40 + 8 * ipv6_ext.size();
    b.erase(b.begin(), b.begin() + static_cast<long>(l3));
    b.resize(std::min(b.size(), ip_len + 8));
    return b;
}

Bytes with_ipv4_options(const Packet &p)
{
    Bytes b = p.bytes();
    const std::uint8_t options[] = {1, 1, 1, 0};
    b.insert(b.begin() + 34, std::begin(options), std::end(options));
    b[14] = 0x46;
    set16(b, 16, static_cast<std::uint16_t>((b[16] << 8 | b[17]) + 4));
    refresh_ipv4_checksum(b);
    return b;
}

void refresh_ipv4_checksum(Bytes &frame)
{
    const std::size_t ip = 14, len = (frame[ip] & 0x0f) * 4u;
    set16(frame, ip + 10, 0);
    set16(frame, ip + 10, fold(sum16(&frame[ip], len)));
}

std::string hex_diff(const Bytes &expected, const Bytes &got)
{
    std::ostringstream out;
    const auto dump = [&](const char *name, const Bytes &b) {
        out << name << " (" << b.size() << " bytes):";
        for (std::size_t i = 0; i < b.size(); ++i) {
            char hx[4];
            std::snprintf(hx, sizeof hx, "%02x", b[i]);
            out << (i % 16 == 0 ? "\n  " : " ") << hx;
        }
        out << "\n";
    };
    for (std::size_t i = 0; i < std::max(expected.size(), got.size()); ++i) {
        const int e = i < expected.size() ? expected[i] : -1;
        const int g = i < got.size() ? got[i] : -1;
        if (e != g)
            out << "  byte " << i << ": expected " << e << ", got " << g << "\n";
    }
    dump("expected", expected);
    dump("got", got);
    return out.str();
}

} // namespace fp

// Internet checksums (RFC 1071) over packet bytes, and their incremental update (RFC 1624)
// after some bytes changed: what the lab's crafted answers are made with (tap_vm.hpp), what
// the fuzzer's reference model says a rewritten frame's checksum fields must hold, and what
// the tests check a packet from scratch with.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace fp {

using Bytes = std::vector<std::uint8_t>;

// The 16-bit one's complement sum of n bytes (an odd last byte padded), added to acc.
std::uint64_t sum_words(const std::uint8_t *p, std::size_t n, std::uint64_t acc = 0);
// acc folded to 16 bits.
std::uint16_t fold(std::uint64_t acc);

std::uint16_t load16(const Bytes &b, std::size_t at);
std::uint32_t load32(const Bytes &b, std::size_t at);
void store16(Bytes &b, std::size_t at, std::uint16_t v);

// The checksum field at `field` after the n bytes at `at` changed from `before` to what
// `f` holds now (the field itself not among them).
void update_checksum(Bytes &f, std::size_t field, std::size_t at, const std::uint8_t *before, std::size_t n);

// Whether the checksum over [from, to) of f, plus a pseudo-header sum, verifies.
bool checksum_ok(const Bytes &f, std::size_t from, std::size_t to, std::uint64_t pseudo = 0);

// The pseudo-header sum of an IP packet at l3 (IPv4 or IPv6 by its version), for a
// transport segment of `length` bytes and protocol proto.
std::uint64_t pseudo_header(const Bytes &f, std::size_t l3, std::uint8_t proto, std::size_t length);

} // namespace fp

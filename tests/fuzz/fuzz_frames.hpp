// The frames the fuzzer sends: made for the world at hand (new flows to its
// published ports, the clients' next packets with the ACK that completes the
// handshake, the backends' answers, ICMP errors quoting its flows, traffic
// between its containers, spoofed and tagged frames, fragments, options,
// extension-header chains) and then, often, mutated: any header byte, the
// lengths, TTL, data offset, truncation, padding.
#pragma once

#include <random>
#include <string>

#include "fuzz_world.hpp"
#include "packet.hpp"
#include "reference_model.hpp"

namespace fp::fuzz {

struct Shot {
    Hook hook;
    test::Dev dev; // where the frame arrives
    Bytes frame;
    std::string what; // how it was made, for a reproducer
};

Shot next_shot(std::mt19937_64 &rng, const World &w);

} // namespace fp::fuzz

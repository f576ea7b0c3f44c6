// flatpath's per-packet decision, written again in plain C++ from the rules in
// docs/datapath.md (not from the BPF code): for a frame arriving at one of the
// three hooks, what the program must answer (hand to the stack, drop, or
// redirect, and the reason it counts), the frame it leaves, the mark it sets,
// the counters it moves and how it changes the conntrack tables and the DNAT
// entries' "had flows" flag in the World it is given.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_world.hpp"
#include "packet.hpp"

namespace fp::fuzz {

enum class Hook { XdpUplink, TcUplink, TcEndpoint };

std::string hook_name(Hook h);

struct Outcome {
    enum Action { Pass, Drop, Redirect } action = Pass;
    std::uint32_t reason = 0; // counted for Pass and Drop
    Bytes out;          // the frame as the program leaves it
    std::uint32_t mark = 0;   // tc: skb->mark afterwards (it starts at 0)
    std::uint32_t from_slot = 0; // endpoint counters that grow by this frame (0: none)
    std::uint32_t to_slot = 0;
    // Checksum fields in `out` (offsets) whose value may be either form of zero (0x0000 or
    // 0xffff): one's complement has two, and two correct computations may differ there.
    std::vector<std::size_t> sums;
    // False when the answer depends on a route the model does not know (a destination
    // outside the world's address pool): such a frame is not compared.
    bool known = true;
};

class ReferenceModel {
public:
    explicit ReferenceModel(World &world) : w_(world) {}

    // The program at hook on device ifindex, at conntrack time now (ns, coarse monotonic).
    Outcome run(Hook hook, std::uint32_t ifindex, const Bytes &frame, std::uint64_t now);

private:
    World &w_;
};

} // namespace fp::fuzz

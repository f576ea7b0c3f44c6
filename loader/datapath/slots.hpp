// Counter slots: each endpoint device gets an index into fp_ep_stats, so that
// counting costs an array access instead of a hash lookup per packet.
#pragma once

#include <cstdint>
#include <vector>

namespace fp {

// The lowest slot in [1, limit) not in used; throws when all are taken. Slot 0 is never
// handed out, so a zeroed record can never count into a live endpoint's slot.
std::uint32_t lowest_free_slot(std::vector<std::uint32_t> used, std::uint32_t limit);

} // namespace fp

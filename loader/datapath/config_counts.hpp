// fp_config's counts, which let the datapath skip the lookups of unused features.
// Every DNAT and mark change adjusts them under the datapath lock; `up` recounts
// them from the tables, which repairs them after anything interrupted a change.
#pragma once

#include <functional>

#include "map_set.hpp"

namespace fp {

void adjust_config(MapSet &maps, const std::function<void(fp_config &)> &change);
void recount_config(MapSet &maps);

} // namespace fp

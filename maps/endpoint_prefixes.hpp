// fp_ep_prefixes (flatpath_abi.h): the summary of fp_endpoints that lets the datapath skip
// the lookups that would miss. Whoever writes an endpoint entry marks its prefix first;
// a bucket that no endpoint is in any more only costs a lookup until the next rebuild.
#pragma once

#include "ip_addr.hpp"
#include "map_set.hpp"

namespace fp {

// Marks the prefix of addr as holding an endpoint. Call it before writing addr's entry in
// fp_endpoints: the datapath never looks up an address whose bucket is 0.
void mark_endpoint_prefix(MapSet &maps, const IpAddr &addr);

// Sets the buckets of the endpoints in fp_endpoints and clears every other: only while no
// endpoint can be added meanwhile (under the datapath lock), or a new one could be cleared.
void rebuild_endpoint_prefixes(MapSet &maps);

} // namespace fp

// Random map contents for the fuzzer, as the loader would write them: endpoints
// (veth, tap, tun, remote; with and without zones), host addresses, published
// ports (single, "any address", ranges) with their backend counts, mark rules,
// and conntrack flows in either table (new or assured, live or past their
// deadline, orphans, direct-connection markers). The reference model reads and
// changes the same World; write_to() puts it into the real maps.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "flatpath_abi.h"
#include "ip_addr.hpp"
#include "map_set.hpp"
#include "prog_world.hpp"

namespace fp::fuzz {

template <class K>
struct RawLess {
    bool operator()(const K &a, const K &b) const { return std::memcmp(&a, &b, sizeof(K)) < 0; }
};
template <class K, class V>
using RawMap = std::map<K, V, RawLess<K>>;
using CtTable = RawMap<fp_ct_key, fp_ct_entry>;

struct Endpoint {
    test::Dev dev;
    std::uint32_t slot = 0;
    fp_ep_kind kind = FP_EP_VETH;
    std::uint32_t zone = 0;
    std::vector<IpAddr> addrs;
};

struct World {
    std::vector<Endpoint> endpoints;
    test::Dev uplink;
    std::set<IpAddr> local_addrs; // fp_local_addrs: what "any address" entries apply to
    RawMap<fp_dnat_key, fp_dnat_backend> dnat;
    RawMap<fp_range_key, fp_range_set> ranges;
    RawMap<fp_backend_key, std::uint32_t> backends;
    RawMap<fp_mark_key, fp_mark> marks;
    CtTable ct;     // assured flows
    CtTable ct_new; // new flows
    fp_config config{};

    // The endpoint that owns addr, or nullptr.
    const Endpoint *endpoint_of(const fp_addr &addr) const;
    // The endpoint on device ifindex, or nullptr.
    const Endpoint *endpoint_on(std::uint32_t ifindex) const;

    // Replaces the maps' contents with this world's; fills config as the loader counts it.
    void write_to(MapSet &maps);
    // Every record, one per line: the world a reproducer needs.
    std::string describe() const;
};

// Addresses the fuzzer picks from: the world's own and some that are nobody's.
struct AddressPool {
    std::vector<IpAddr> v4, v6;
};
const AddressPool &address_pool();
// LAN clients: one with a known neighbour, one without, one with no route.
const AddressPool &lan_clients();

World random_world(std::mt19937_64 &rng, const test::ProgDevices &devs, std::uint64_t now_ns);

} // namespace fp::fuzz

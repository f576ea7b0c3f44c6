// `flatpath doctor`: what on this host would fight with or break flatpath's
// marks and translated traffic, each finding with its fix.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "map_set.hpp"

namespace fp {

struct Finding {
    std::string what; // the problem, in a line
    std::string fix;  // what to do about it
};

// Mark masks named in one iptables-save line (--set-xmark/--mark V/M, --nfmask, --ctmask);
// a mark given without a mask counts as all 32 bits. Empty when the line uses no marks.
std::vector<std::uint32_t> iptables_mark_masks(const std::string &line);

// Findings about nft rules (from `nft -j list ruleset`) that read or write any of
// `our_bits`: a masked match or a "mark set MARK & KEEP | SET" counts only its bits,
// anything else that names meta mark or ct mark all 32. The tables iptables-nft keeps
// are left to the iptables-save findings.
std::vector<Finding> nft_mark_findings(std::uint32_t our_bits, const std::string &nft_ruleset_json);

// Findings about other users of `our_bits` (the union of flatpath's mark masks):
// ip rules (from `ip -j rule show` JSON), iptables-save lines, the nft ruleset as JSON.
std::vector<Finding> mark_bit_findings(std::uint32_t our_bits, const std::string &ip_rules_json,
                                       const std::string &iptables_save, const std::string &nft_ruleset_json);

// The routing tables that ip rules reading any of our_bits select (from `ip -j rule show`).
std::vector<std::string> marked_tables(std::uint32_t our_bits, const std::string &ip_rules_json);
// The devices the routes of `ip -j route show table T` leave by.
std::vector<std::string> route_devices(const std::string &routes_json);

struct RpFilterScope {
    // The interfaces that marked replies leave by (the routes of marked tables): their
    // requests arrive there, from clients the main table may route elsewhere.
    std::vector<std::string> marked_gateways;
    // Where marked container traffic enters the host stack: the bridge of a marked
    // endpoint's host device (attach mode, bridge mode), else that device.
    std::vector<std::string> marked_entries;
};

// Findings about strict reverse-path filtering (rp_filter 1), on exactly the interfaces
// where it drops something. flatpath's own paths never meet the check (XDP and tc take
// requests before it, translated replies are routed in BPF), but what goes through the
// stack does: requests arriving on a marked gateway (the check routes their source by
// the main table); marked container replies that the stack translates back (ports
// another tool publishes, such as portmap's), where they enter the stack, when
// src_valid_mark makes the check follow the mark to the gateway; and, when ports are
// published, the replies to the host's own connections, which arrive on lo with a host
// address as source. conf(dev, key) returns net.ipv4.conf.DEV.KEY ("all": the global one).
std::vector<Finding> rp_filter_findings(const RpFilterScope &scope,
                                        const std::function<int(const std::string &, const std::string &)> &conf);

// Uplinks running native XDP where it breaks senders' checksum offload (xdp_plan.hpp).
std::vector<Finding> xdp_findings(MapSet &maps);

// Endpoint addresses whose prefix fp_ep_prefixes does not mark: the datapath takes them for
// no endpoint's (a damaged summary; `up` rebuilds it).
std::vector<Finding> endpoint_prefix_findings(MapSet &maps);

// All of the above for the running datapath (reads the host's rules and sysctls).
std::vector<Finding> run_doctor(MapSet &maps);

} // namespace fp

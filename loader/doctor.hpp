// `flatpath doctor`: what on this host would fight with or break flatpath's
// marks and translated traffic, each finding with its fix.
#pragma once

#include <cstdint>
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

// Findings about other users of `our_bits` (the union of flatpath's mark masks):
// ip rules (from `ip -j rule show` JSON), iptables-save lines, nft ruleset lines.
std::vector<Finding> mark_bit_findings(std::uint32_t our_bits, const std::string &ip_rules_json,
                                       const std::string &iptables_save, const std::string &nft_ruleset);

// Findings about strict reverse-path filtering (rp_filter 1): on uplinks when marks make
// routing asymmetric (flatpath's own paths never meet the check: XDP and tc take requests
// before it and translated replies are routed in BPF, but what they hand to the stack
// does), and on lo when ports are published (replies to the host's own connections
// arrive there with a host address as source). rp_filter(dev) returns the device's value,
// rp_filter("all") the global one.
std::vector<Finding> rp_filter_findings(const std::vector<std::string> &uplinks, bool marks_in_use, bool dnat_in_use,
                                        const std::function<int(const std::string &)> &rp_filter);

// All of the above for the running datapath (reads the host's rules and sysctls).
std::vector<Finding> run_doctor(MapSet &maps);

} // namespace fp

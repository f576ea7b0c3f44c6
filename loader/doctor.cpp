#include "doctor.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <regex>
#include <sstream>

#include "command.hpp"
#include "netdev.hpp"
#include "sysctl.hpp"

namespace fp {

namespace {

std::string hex(std::uint32_t v)
{
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%x", v);
    return buf;
}

std::uint32_t number(const std::string &s)
{
    return static_cast<std::uint32_t>(std::stoul(s, nullptr, 0));
}

// Output of a command, or "" when it is not installed or fails (the finding is then skipped).
std::string output_of(const std::vector<std::string> &argv)
{
    const CommandResult r = run_command(argv);
    return r.status == 0 ? r.output : "";
}

} // namespace

std::vector<std::uint32_t> iptables_mark_masks(const std::string &line)
{
    std::vector<std::uint32_t> masks;
    static const std::regex value_mask(R"(--(?:set-xmark|set-mark|mark|and-mark|or-mark|xor-mark)\s+(0x[0-9a-fA-F]+|\d+)(?:/(0x[0-9a-fA-F]+|\d+))?)");
    static const std::regex mask_only(R"(--(?:nfmask|ctmask|mask)\s+(0x[0-9a-fA-F]+|\d+))");
    for (std::sregex_iterator it(line.begin(), line.end(), value_mask), end; it != end; ++it)
        masks.push_back((*it)[2].matched ? number((*it)[2]) : 0xffffffffu);
    for (std::sregex_iterator it(line.begin(), line.end(), mask_only), end; it != end; ++it)
        masks.push_back(number((*it)[1]));
    if (masks.empty() && (line.find("-j MARK") != std::string::npos || line.find("-j CONNMARK") != std::string::npos))
        masks.push_back(0xffffffffu);
    return masks;
}

std::vector<Finding> mark_bit_findings(std::uint32_t our_bits, const std::string &ip_rules_json,
                                       const std::string &iptables_save, const std::string &nft_ruleset)
{
    std::vector<Finding> out;
    if (our_bits == 0)
        return out;
    const std::string ours = hex(our_bits);
    if (!ip_rules_json.empty()) {
        for (const auto &rule : nlohmann::json::parse(ip_rules_json)) {
            if (!rule.contains("fwmark"))
                continue;
            const std::uint32_t mask = rule.contains("fwmask") ? number(rule["fwmask"]) : 0xffffffffu;
            if ((mask & our_bits) == 0)
                continue;
            out.push_back({"ip rule " + std::to_string(rule.value("priority", 0)) + " (fwmark " +
                               rule["fwmark"].get<std::string>() + "/" + hex(mask) + ", table " +
                               rule.value("table", std::string("?")) + ") reads mark bits " + ours + " that flatpath sets",
                           "nothing, if this is the rule flatpath's marks are meant for; otherwise give one of them "
                           "other bits (flatpath mark add ... VALUE/MASK)"});
        }
    }
    std::istringstream ipt(iptables_save);
    for (std::string line; std::getline(ipt, line);) {
        for (std::uint32_t mask : iptables_mark_masks(line)) {
            if ((mask & our_bits) == 0)
                continue;
            out.push_back({"iptables rule uses mark bits " + hex(mask & our_bits) + " that flatpath sets: " + line,
                           "make the rule use other bits (a mask without " + ours +
                               "), or flatpath's marks other bits; a rule that sets them overwrites flatpath's"});
            break;
        }
    }
    std::istringstream nft(nft_ruleset);
    bool xtables_table = false;
    static const std::regex table_line(R"(^table (ip|ip6|inet|arp|bridge|netdev) (\S+) \{)");
    for (std::string line; std::getline(nft, line);) {
        std::smatch m;
        if (std::regex_search(line, m, table_line)) {
            // iptables-nft keeps its tables in nft too: those rules were reported above.
            xtables_table = (m[1] == "ip" || m[1] == "ip6") &&
                            (m[2] == "filter" || m[2] == "nat" || m[2] == "mangle" || m[2] == "raw" || m[2] == "security");
            continue;
        }
        if (xtables_table || line.find("mark") == std::string::npos || line.find("chain ") != std::string::npos)
            continue;
        line.erase(0, line.find_first_not_of(" \t"));
        out.push_back({"nft rule uses packet marks (check it leaves bits " + ours + " alone): " + line,
                       "mask the rule's mark expressions so they do not touch " + ours});
    }
    return out;
}

std::vector<Finding> rp_filter_findings(const std::vector<std::string> &uplinks, bool marks_in_use, bool dnat_in_use,
                                        const std::function<int(const std::string &)> &rp_filter)
{
    std::vector<Finding> out;
    const int all = rp_filter("all");
    const auto check = [&](const std::string &dev, const std::string &drops) {
        // The kernel applies the larger of conf.all and conf.DEV.
        if (std::max(all, rp_filter(dev)) != 1)
            return;
        out.push_back({"strict reverse-path filtering (rp_filter=1) on " + dev + " drops " + drops,
                       "sysctl -w net.ipv4.conf." + dev + ".rp_filter=2 (loose mode: the kernel uses the larger of "
                       "this and net.ipv4.conf.all.rp_filter)"});
    };
    if (marks_in_use)
        for (const std::string &dev : uplinks)
            check(dev, "what flatpath hands to the stack there (fragments, ICMP errors, other traffic) from clients "
                       "whose replies a mark routes out of another uplink");
    if (dnat_in_use)
        check("lo", "the replies to the host's own connections to published ports");
    return out;
}

std::vector<Finding> run_doctor(MapSet &maps)
{
    std::uint32_t our_bits = 0;
    for (const auto &[key, m] : maps.marks.entries())
        our_bits |= m.mask;
    std::vector<Finding> findings =
        mark_bit_findings(our_bits, output_of({"ip", "-j", "rule", "show"}),
                          output_of({"iptables-save"}) + output_of({"ip6tables-save"}),
                          output_of({"nft", "list", "ruleset"}));

    std::vector<std::string> uplinks;
    for (const auto &[key, rec] : maps.ifaces.entries()) {
        const auto dev = NetDev::by_index(key.ifindex);
        if (dev && rec.role == FP_ROLE_UPLINK)
            uplinks.push_back(dev->name);
    }
    std::sort(uplinks.begin(), uplinks.end());
    const fp_config cfg = maps.config.lookup(0).value_or(fp_config{});
    const auto rp = rp_filter_findings(uplinks, our_bits != 0, cfg.dnat_entries != 0, [](const std::string &dev) {
        return std::stoi(sysctl_read("net.ipv4.conf." + dev + ".rp_filter"));
    });
    findings.insert(findings.end(), rp.begin(), rp.end());
    return findings;
}

} // namespace fp

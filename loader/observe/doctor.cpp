#include "doctor.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <regex>
#include <set>
#include <sstream>

#include "command.hpp"
#include "netdev.hpp"
#include "port_spec.hpp"
#include "sysctl.hpp"
#include "xdp_plan.hpp"

namespace fp {

namespace {

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

namespace {

bool is_mark(const nlohmann::json &e)
{
    for (const char *kind : {"meta", "ct"})
        if (e.is_object() && e.contains(kind) && e[kind].is_object() && e[kind].value("key", "") == "mark")
            return true;
    return false;
}

// {"&": [MARK, MASK]}: the mask, when e is a mark masked by a number.
std::optional<std::uint32_t> masked_mark(const nlohmann::json &e)
{
    if (!e.is_object() || !e.contains("&") || !e["&"].is_array() || e["&"].size() != 2)
        return std::nullopt;
    if (is_mark(e["&"][0]) && e["&"][1].is_number_unsigned())
        return e["&"][1].get<std::uint32_t>();
    return std::nullopt;
}

// The bits a "mark set VALUE" statement changes: all of them, but for the forms that
// keep some (MARK & KEEP | SET, MARK & KEEP, MARK | SET).
std::uint32_t bits_written(const nlohmann::json &value)
{
    if (const auto keep = masked_mark(value))
        return ~*keep;
    if (value.is_object() && value.contains("|") && value["|"].is_array() && value["|"].size() == 2) {
        const nlohmann::json &left = value["|"][0], &set = value["|"][1];
        if (set.is_number_unsigned()) {
            if (is_mark(left))
                return set.get<std::uint32_t>();
            if (const auto keep = masked_mark(left))
                return ~*keep | set.get<std::uint32_t>();
        }
    }
    return 0xffffffffu;
}

// The mark bits an nft expression reads or writes (nft -j's form of it).
std::uint32_t nft_mark_bits(const nlohmann::json &e)
{
    if (is_mark(e))
        return 0xffffffffu;
    if (const auto mask = masked_mark(e))
        return *mask;
    if (e.is_object() && e.contains("mangle") && e["mangle"].is_object()) {
        const nlohmann::json &m = e["mangle"];
        // A mark read inside the value only to keep its own bits is no use of them.
        if (m.contains("key") && is_mark(m["key"]) && m.contains("value"))
            return bits_written(m["value"]);
    }
    std::uint32_t bits = 0;
    if (e.is_object() || e.is_array())
        for (const auto &child : e)
            bits |= nft_mark_bits(child);
    return bits;
}

} // namespace

std::vector<Finding> nft_mark_findings(std::uint32_t our_bits, const std::string &nft_ruleset_json)
{
    std::vector<Finding> out;
    if (our_bits == 0 || nft_ruleset_json.empty())
        return out;
    const std::string ours = mark_hex(our_bits);
    for (const auto &item : nlohmann::json::parse(nft_ruleset_json).value("nftables", nlohmann::json::array())) {
        if (!item.contains("rule"))
            continue;
        const nlohmann::json &rule = item["rule"];
        const std::string family = rule.value("family", ""), table = rule.value("table", "");
        // iptables-nft keeps its tables in nft too: those rules were reported from iptables-save.
        const bool xtables = (family == "ip" || family == "ip6") &&
                             (table == "filter" || table == "nat" || table == "mangle" || table == "raw" ||
                              table == "security");
        const std::uint32_t bits = nft_mark_bits(rule.value("expr", nlohmann::json::array()));
        if (xtables || (bits & our_bits) == 0)
            continue;
        const std::string where = family + " " + table + " chain " + rule.value("chain", "") + " (handle " +
                                  std::to_string(rule.value("handle", 0)) + ")";
        out.push_back({"nft rule in " + where + " uses mark bits " + mark_hex(bits & our_bits) + " that flatpath sets",
                       "mask the rule's mark expressions so they do not touch " + ours + " (nft -a list chain " +
                           family + " " + table + " " + rule.value("chain", "") + " shows it)"});
    }
    return out;
}

std::vector<Finding> mark_bit_findings(std::uint32_t our_bits, const std::string &ip_rules_json,
                                       const std::string &iptables_save, const std::string &nft_ruleset_json)
{
    std::vector<Finding> out;
    if (our_bits == 0)
        return out;
    const std::string ours = mark_hex(our_bits);
    if (!ip_rules_json.empty()) {
        for (const auto &rule : nlohmann::json::parse(ip_rules_json)) {
            if (!rule.contains("fwmark"))
                continue;
            const std::uint32_t mask = rule.contains("fwmask") ? number(rule["fwmask"]) : 0xffffffffu;
            if ((mask & our_bits) == 0)
                continue;
            out.push_back({"ip rule " + std::to_string(rule.value("priority", 0)) + " (fwmark " +
                               rule["fwmark"].get<std::string>() + "/" + mark_hex(mask) + ", table " +
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
            out.push_back({"iptables rule uses mark bits " + mark_hex(mask & our_bits) + " that flatpath sets: " + line,
                           "make the rule use other bits (a mask without " + ours +
                               "), or flatpath's marks other bits; a rule that sets them overwrites flatpath's"});
            break;
        }
    }
    const std::vector<Finding> nft = nft_mark_findings(our_bits, nft_ruleset_json);
    out.insert(out.end(), nft.begin(), nft.end());
    return out;
}

std::vector<std::string> marked_tables(std::uint32_t our_bits, const std::string &ip_rules_json)
{
    std::set<std::string> tables;
    if (our_bits == 0 || ip_rules_json.empty())
        return {};
    for (const auto &rule : nlohmann::json::parse(ip_rules_json)) {
        const std::uint32_t mask = rule.contains("fwmask") ? number(rule["fwmask"]) : 0xffffffffu;
        if (rule.contains("fwmark") && (mask & our_bits) != 0 && rule.contains("table"))
            tables.insert(rule["table"].get<std::string>());
    }
    return {tables.begin(), tables.end()};
}

std::vector<std::string> route_devices(const std::string &routes_json)
{
    std::set<std::string> devs;
    if (!routes_json.empty())
        for (const auto &route : nlohmann::json::parse(routes_json))
            if (route.contains("dev") && route["dev"] != "lo")
                devs.insert(route["dev"].get<std::string>());
    return {devs.begin(), devs.end()};
}

std::vector<Finding> rp_filter_findings(const RpFilterScope &scope,
                                        const std::function<int(const std::string &, const std::string &)> &conf)
{
    std::vector<Finding> out;
    // The kernel applies the larger of conf.all.rp_filter and conf.DEV.rp_filter, and
    // src_valid_mark when either conf.all or conf.DEV has it.
    const auto strict = [&](const std::string &dev) { return std::max(conf("all", "rp_filter"), conf(dev, "rp_filter")) == 1; };
    const auto report = [&](const std::string &dev, const std::string &drops) {
        out.push_back({"strict reverse-path filtering (rp_filter=1) on " + dev + " drops " + drops,
                       "sysctl -w net.ipv4.conf." + dev + ".rp_filter=2 (loose mode: the kernel uses the larger of "
                       "this and net.ipv4.conf.all.rp_filter)"});
    };
    for (const std::string &dev : scope.marked_gateways)
        if (strict(dev))
            report(dev, "requests from clients that only the marked route reaches (the check routes their source by "
                        "the main table): what flatpath hands to the stack there, and what other tools publish");
    if (!scope.marked_gateways.empty())
        for (const std::string &dev : scope.marked_entries)
            if (strict(dev) && (conf("all", "src_valid_mark") == 1 || conf(dev, "src_valid_mark") == 1))
                report(dev, "marked container replies that the stack translates back (ports published by another "
                            "tool, such as portmap): with src_valid_mark on, the check follows the mark to the "
                            "other gateway's interface");
    return out;
}

namespace {

// The marked endpoints' entries into the stack (see RpFilterScope::marked_entries).
std::vector<std::string> marked_entries(MapSet &maps)
{
    std::set<IpAddr> marked;
    bool any = false;
    for (const auto &[key, m] : maps.marks.entries()) {
        const IpAddr a = IpAddr::from_raw(key.addr);
        any = any || a == IpAddr::parse("::");
        marked.insert(a);
    }
    std::set<std::string> names;
    for (const auto &[key, ep] : maps.endpoints.entries()) {
        if (!any && !marked.contains(IpAddr::from_raw(key.addr)))
            continue;
        const auto dev = NetDev::by_index(ep.ifindex);
        const auto master = dev && dev->master ? NetDev::by_index(dev->master) : std::nullopt;
        if (master)
            names.insert(master->name);
        else if (dev)
            names.insert(dev->name);
    }
    return {names.begin(), names.end()};
}

} // namespace

std::vector<Finding> xdp_findings(MapSet &maps)
{
    std::vector<Finding> out;
    for (const auto &[key, rec] : maps.ifaces.entries()) {
        if (rec.role != FP_ROLE_UPLINK || !(rec.attached & FP_ATTACHED_XDP_NATIVE))
            continue;
        const auto dev = NetDev::by_index(key.ifindex);
        if (!dev)
            continue;
        if (const std::string warning = native_xdp_warning(*dev, receives_from_wire(*dev)); !warning.empty())
            out.push_back({warning, "flatpath attach " + dev->name + " --role uplink --xdp-mode auto (tc only there)"});
    }
    return out;
}

std::vector<Finding> endpoint_prefix_findings(MapSet &maps)
{
    std::vector<Finding> out;
    for (const auto &[key, ep] : maps.endpoints.entries())
        if (!maps.ep_prefixes.lookup(fp_ep_prefix_bucket(&key.addr)).value_or(0))
            out.push_back({"endpoint " + IpAddr::from_raw(key.addr).str() +
                               ": its prefix is not marked in " FP_MAP_EP_PREFIXES
                               ", so the datapath takes it for no endpoint's and hands its traffic to the stack",
                           "flatpath up (rebuilds the prefixes from the endpoints)"});
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
                          output_of({"nft", "-j", "list", "ruleset"}));

    RpFilterScope scope;
    std::set<std::string> gateways;
    for (const std::string &table : marked_tables(our_bits, output_of({"ip", "-j", "rule", "show"})))
        for (const std::string &dev : route_devices(output_of({"ip", "-j", "route", "show", "table", table})))
            gateways.insert(dev);
    scope.marked_gateways.assign(gateways.begin(), gateways.end());
    scope.marked_entries = marked_entries(maps);
    const auto rp = rp_filter_findings(scope, [](const std::string &dev, const std::string &key) {
        return std::stoi(sysctl_read(conf_sysctl("ipv4", dev, key)));
    });
    findings.insert(findings.end(), rp.begin(), rp.end());
    const auto xdp = xdp_findings(maps);
    findings.insert(findings.end(), xdp.begin(), xdp.end());
    const auto prefixes = endpoint_prefix_findings(maps);
    findings.insert(findings.end(), prefixes.begin(), prefixes.end());
    return findings;
}

} // namespace fp

#include "networks.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "cni_error.hpp"
#include "error.hpp"
#include "file_lock.hpp"
#include "ip_pool.hpp"
#include "ip_prefix.hpp"
#include "ipam_store.hpp"
#include "net_config.hpp"
#include "netlink.hpp"

namespace fp::cni {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void invalid(const std::string &msg)
{
    throw CniError(ErrorCode::InvalidConfig, msg);
}

// The subnet of prefix_len that addr is in.
Subnet subnet_of(const IpAddr &addr, int prefix_len)
{
    return {IpPrefix::of(addr, prefix_len).network, prefix_len};
}

// Another network's subnet as written there, host bits and all; nothing when it is none.
std::optional<Subnet> subnet_in(const nlohmann::json &text)
{
    if (!text.is_string())
        return std::nullopt;
    const std::string s = text;
    const std::size_t slash = s.find('/');
    try {
        const IpAddr a = IpAddr::parse(s.substr(0, slash));
        const int len = slash == std::string::npos ? (a.is_v4() ? 32 : 128) : std::stoi(s.substr(slash + 1));
        if (len < 0 || len > (a.is_v4() ? 32 : 128))
            return std::nullopt;
        return subnet_of(a, len);
    } catch (const std::exception &) {
        return std::nullopt;
    }
}

// "subnet" and "ranges" of a plugin object or of its "ipam".
void collect_subnets(const nlohmann::json &p, std::vector<Subnet> &out)
{
    if (!p.is_object())
        return;
    if (const auto s = subnet_in(p.value("subnet", nlohmann::json())))
        out.push_back(*s);
    if (p.contains("ranges") && p["ranges"].is_array())
        for (const auto &set : p["ranges"])
            if (set.is_array())
                for (const auto &r : set)
                    if (r.is_object())
                        if (const auto s = subnet_in(r.value("subnet", nlohmann::json())))
                            out.push_back(*s);
    if (p.contains("ipam"))
        collect_subnets(p["ipam"], out);
}

NetworkFile network_of(const fs::path &path, const nlohmann::json &j)
{
    NetworkFile n;
    n.path = path.string();
    n.name = j["name"];
    // A .conf file is one plugin object; a .conflist has them under "plugins".
    const nlohmann::json plugins = j.contains("plugins") ? j["plugins"] : nlohmann::json::array({j});
    for (const auto &p : plugins.is_array() ? plugins : nlohmann::json::array()) {
        collect_subnets(p, n.subnets);
        if (p.is_object() && p.value("type", "") == "flatpath-cni") {
            n.flatpath = true;
            n.mode = p.value("mode", "routed");
            n.bridge = n.mode == "bridge" ? p.value("bridge", "fpbr0") : "";
            n.state_dir = p.value("stateDir", kStateDirDefault);
            if (p.contains("uplinks") && p["uplinks"].is_array())
                for (const auto &u : p["uplinks"])
                    if (u.is_string())
                        n.uplinks.push_back(u);
        }
    }
    return n;
}

// Podman's rule for network names.
void check_name(const std::string &name)
{
    static const std::regex valid("[a-zA-Z0-9][a-zA-Z0-9_.-]*");
    if (name.size() > 200 || !std::regex_match(name, valid))
        invalid("network name '" + name + "' is not valid: letters, digits, '_', '.' and '-', starting with a "
                "letter or digit");
}

std::string who_is(const NetworkFile &n)
{
    return "network " + n.name + " (" + n.path + ")";
}

// The lowest fpbrN no other flatpath network's bridge is.
std::string free_bridge(const std::vector<NetworkFile> &networks)
{
    std::set<std::string> used;
    for (const NetworkFile &n : networks)
        if (n.flatpath && !n.bridge.empty())
            used.insert(n.bridge);
    for (int i = 0;; ++i)
        if (const std::string b = "fpbr" + std::to_string(i); !used.contains(b))
            return b;
}

void write_atomically(const fs::path &path, const std::string &text)
{
    const fs::path tmp = path.parent_path() / ("." + path.filename().string() + ".tmp");
    {
        std::ofstream out(tmp);
        out << text;
        if (!out.flush())
            throw CniError(ErrorCode::IoFailure, "cannot write " + tmp.string());
    }
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) {
        fs::remove(tmp);
        throw CniError(ErrorCode::IoFailure, "cannot write " + path.string(), ec.message());
    }
}

} // namespace

Subnet Subnet::parse(const std::string &text)
{
    const IpPool p = IpPool::parse(text); // says what is wrong with it
    return {p.network(), p.prefix_len()};
}

std::string Subnet::str() const
{
    return network.str() + "/" + std::to_string(prefix_len);
}

bool Subnet::overlaps(const Subnet &other) const
{
    return IpPrefix{network, prefix_len}.overlaps(IpPrefix{other.network, other.prefix_len});
}

std::vector<NetworkFile> read_networks(const std::string &dir, std::vector<std::string> *skipped)
{
    std::vector<fs::path> files;
    std::error_code ec;
    for (const auto &e : fs::directory_iterator(dir, ec))
        if (e.is_regular_file() && (e.path().extension() == ".conflist" || e.path().extension() == ".conf"))
            files.push_back(e.path());
    std::sort(files.begin(), files.end());
    std::vector<NetworkFile> out;
    for (const fs::path &f : files) {
        std::ifstream in(f);
        std::stringstream text;
        text << in.rdbuf();
        const nlohmann::json j = nlohmann::json::parse(text.str(), nullptr, false);
        if (j.is_discarded() || !j.is_object() || !j.contains("name") || !j["name"].is_string()) {
            if (skipped)
                skipped->push_back(f.string());
            continue;
        }
        out.push_back(network_of(f, j));
    }
    return out;
}

std::vector<std::string> plugin_state_dirs(const std::string &dir)
{
    std::vector<std::string> out = {kStateDirDefault};
    for (const NetworkFile &n : read_networks(dir))
        if (n.flatpath && std::find(out.begin(), out.end(), n.state_dir) == out.end())
            out.push_back(n.state_dir);
    return out;
}

std::vector<AddressUser> host_address_users()
{
    std::vector<AddressUser> out;
    const Netlink nl;
    for (const Route &r : nl.routes()) {
        if (r.prefix_len == 0)
            continue; // a default route covers everything, and takes nothing
        const auto dev = nl.link(r.ifindex);
        const Subnet s = subnet_of(r.dst, r.prefix_len);
        out.push_back({s, "the route " + s.str() + (dev ? " dev " + dev->name : "")});
    }
    for (const IpAddr &a : nl.addresses())
        out.push_back({Subnet{a, a.is_v4() ? 32 : 128}, "the host address " + a.str()});
    return out;
}

std::vector<std::string> default_route_interfaces()
{
    std::vector<std::string> out;
    const Netlink nl;
    for (const Route &r : nl.routes()) {
        if (r.prefix_len != 0)
            continue;
        const auto dev = nl.link(r.ifindex);
        if (dev && std::find(out.begin(), out.end(), dev->name) == out.end())
            out.push_back(dev->name);
    }
    return out;
}

std::pair<std::string, LanRange> parse_lan_range(const std::string &text)
{
    const auto colon = text.find(':'), dash = text.rfind('-');
    if (colon == std::string::npos || dash == std::string::npos || dash < colon)
        invalid("--lan-subnet '" + text + "': want UPLINK:FIRST-LAST, e.g. eth0:192.168.1.200-192.168.1.220");
    const std::string dev = text.substr(0, colon);
    IpAddr first, last;
    try {
        first = IpAddr::parse(text.substr(colon + 1, dash - colon - 1));
        last = IpAddr::parse(text.substr(dash + 1));
    } catch (const Error &e) {
        invalid("--lan-subnet '" + text + "': " + e.what());
    }
    if (first.is_v4() != last.is_v4() || last < first)
        invalid("--lan-subnet '" + text + "': FIRST and LAST of one family, FIRST not after LAST");
    const Netlink nl;
    const auto link = nl.link(dev);
    if (!link)
        invalid("--lan-subnet '" + text + "': " + dev + " is no interface of the host");
    for (const Route &r : nl.routes())
        if (r.ifindex == link->ifindex && !r.gateway && r.prefix_len > 0) {
            const IpPrefix on_link = IpPrefix::of(r.dst, r.prefix_len);
            if (on_link.contains(first) && on_link.contains(last))
                return {dev, LanRange{Subnet{on_link.network, on_link.len}, first, last}};
        }
    invalid("--lan-subnet '" + text + "': no subnet on " + dev + "'s link holds " + first.str() + "-" + last.str() +
            " (the range must be part of the LAN " + dev + " is on)");
}

std::optional<Subnet> free_subnet(bool v4, const std::vector<AddressUser> &users)
{
    const auto taken = [&](const Subnet &s) {
        return std::any_of(users.begin(), users.end(), [&](const AddressUser &u) { return u.subnet.overlaps(s); });
    };
    for (unsigned n = 0; n < (v4 ? 256u : 4096u); ++n) {
        char text[32];
        std::snprintf(text, sizeof text, v4 ? "10.90.%u.0" : "fd90:0:0:%x::", n);
        const Subnet s{IpAddr::parse(text), v4 ? 24 : 64};
        if (!taken(s))
            return s;
    }
    return std::nullopt;
}

nlohmann::json conflist_of(const NetworkSpec &spec, const std::string &bridge)
{
    nlohmann::json ranges = nlohmann::json::array();
    for (const Subnet &s : spec.subnets)
        ranges.push_back(nlohmann::json::array({{{"subnet", s.str()}}}));
    for (const LanRange &r : spec.lan_ranges)
        ranges.push_back(nlohmann::json::array(
            {{{"subnet", r.subnet.str()}, {"rangeStart", r.first.str()}, {"rangeEnd", r.last.str()}}}));
    nlohmann::json plugin = {{"type", "flatpath-cni"}, {"mode", spec.bridge_mode ? "bridge" : "routed"}};
    if (spec.bridge_mode)
        plugin["bridge"] = bridge;
    plugin["ranges"] = ranges;
    if (!spec.uplinks.empty())
        plugin["uplinks"] = spec.uplinks;
    if (!spec.lan_uplink.empty())
        plugin["lanUplink"] = spec.lan_uplink; // the plugin then masquerades nothing
    else
        plugin["ipMasq"] = spec.ip_masq;
    if (!spec.pin_root.empty())
        plugin["pinRoot"] = spec.pin_root;
    if (!spec.state_dir.empty())
        plugin["stateDir"] = spec.state_dir;
    plugin["capabilities"] = {{"portMappings", true}, {"ips", true}, {"mac", true}};
    return {{"cniVersion", "1.0.0"},
            {"cniVersions", {"1.0.0", "1.1.0"}},
            {"name", spec.name},
            {"plugins", nlohmann::json::array({plugin})}};
}

std::string create_network(const std::string &dir, NetworkSpec spec, const std::vector<AddressUser> &host)
{
    check_name(spec.name);
    for (const std::string &u : spec.uplinks)
        if (u.empty() || u.size() > 15 || u.find('/') != std::string::npos)
            invalid("uplink '" + u + "' is not an interface name");
    for (const std::string *d : {&spec.pin_root, &spec.state_dir})
        if (!d->empty() && !d->starts_with("/"))
            invalid("the pin root and the state directory must be absolute paths, not '" + *d + "'");
    std::error_code ec;
    fs::create_directories(dir, ec);
    const FileLock lock = FileLock::on_directory(dir);
    const std::vector<NetworkFile> networks = read_networks(dir);
    const fs::path path = fs::path(dir) / (spec.name + ".conflist");
    for (const NetworkFile &n : networks)
        if (n.name == spec.name)
            invalid("a network named " + spec.name + " exists already: " + n.path);
    if (fs::exists(path))
        invalid(path.string() + " exists already");

    std::vector<AddressUser> users; // the other networks first: the likeliest to be meant
    for (const NetworkFile &n : networks)
        for (const Subnet &s : n.subnets)
            users.push_back({s, who_is(n)});
    users.insert(users.end(), host.begin(), host.end());
    bool v4 = false, v6 = false;
    for (const Subnet &s : spec.subnets) {
        bool &family = s.network.is_v4() ? v4 : v6;
        if (family)
            invalid("two " + std::string(s.network.is_v4() ? "IPv4" : "IPv6") +
                    " subnets: a flatpath network has one of each family at most");
        family = true;
        for (const AddressUser &u : users)
            if (u.subnet.overlaps(s))
                invalid("subnet " + s.str() + " overlaps " + u.subnet.str() + ", which " + u.who + " uses");
    }
    // A LAN network's subnet is the LAN's, which the host's uplink address is in by design:
    // only other networks may not overlap it.
    for (const LanRange &r : spec.lan_ranges) {
        bool &family = r.subnet.network.is_v4() ? v4 : v6;
        if (family)
            invalid("two " + std::string(r.subnet.network.is_v4() ? "IPv4" : "IPv6") + " LAN ranges: one of each family at most");
        family = true;
        for (const NetworkFile &n : networks)
            for (const Subnet &s : n.subnets)
                if (s.overlaps(r.subnet))
                    invalid("LAN subnet " + r.subnet.str() + " overlaps " + s.str() + ", which " + who_is(n) + " uses");
    }
    if (!spec.lan_ranges.empty()) {
        write_atomically(path, conflist_of(spec, free_bridge(networks)).dump(2) + "\n");
        return path.string();
    }
    const auto pick = [&](bool want_v4) {
        const auto s = free_subnet(want_v4, users);
        if (!s)
            invalid(std::string("no free ") + (want_v4 ? "IPv4 /24 in 10.90.0.0/16" : "IPv6 /64 in fd90::/48") +
                    ": give one with --subnet");
        spec.subnets.push_back(*s);
    };
    if (spec.subnets.empty())
        pick(true);
    if (spec.ipv6 && !v6)
        pick(false);
    write_atomically(path, conflist_of(spec, free_bridge(networks)).dump(2) + "\n");
    return path.string();
}

std::string remove_network(const std::string &dir, const std::string &name)
{
    if (!fs::is_directory(dir))
        invalid("no network named " + name + ": there is no directory " + dir);
    const FileLock lock = FileLock::on_directory(dir);
    for (const NetworkFile &n : read_networks(dir)) {
        if (n.name != name)
            continue;
        if (!n.flatpath)
            invalid("network " + name + " is not a flatpath network (" + n.path + "): podman network rm removes it");
        // A network with addresses handed out is still in use: its containers would lose
        // the configuration their DEL needs.
        const std::string leases = ipam_dir(n.state_dir, name);
        if (fs::exists(leases))
            if (const std::size_t used = IpamStore(leases).leases().size(); used > 0)
                invalid("network " + name + " still has " + std::to_string(used) + " address(es) in use (" + leases +
                        "): remove its containers first");
        fs::remove(n.path);
        return n.path;
    }
    invalid("no network named " + name + " in " + dir);
}

} // namespace fp::cni

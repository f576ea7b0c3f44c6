#include "flannel_layout.hpp"

#include "error.hpp"

namespace fp {

namespace {

using nlohmann::json;

json parse_object(std::string_view text, const std::string &what)
{
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception &e) {
        throw Error(what + ": not JSON: " + e.what());
    }
    if (!j.is_object())
        throw Error(what + ": not a JSON object");
    return j;
}

// Field name of j as a string, when present and not null.
std::optional<std::string> text_field(const json &j, const char *name, const std::string &what)
{
    const auto it = j.find(name);
    if (it == j.end() || it->is_null())
        return std::nullopt;
    if (!it->is_string())
        throw Error(what + ": \"" + name + "\" must be a string");
    return it->get<std::string>();
}

int int_field(const json &j, const char *name, int fallback, int lo, int hi, const std::string &what)
{
    const auto it = j.find(name);
    if (it == j.end() || it->is_null())
        return fallback;
    if (!it->is_number_integer() || it->get<long long>() < lo || it->get<long long>() > hi)
        throw Error(what + ": \"" + name + "\" must be a whole number from " + std::to_string(lo) + " to " +
                    std::to_string(hi));
    return static_cast<int>(it->get<long long>());
}

template <class Parse>
auto parsed(const std::optional<std::string> &text, Parse parse, const std::string &what, const char *name)
    -> std::optional<decltype(parse(std::string_view()))>
{
    if (!text)
        return std::nullopt;
    try {
        return parse(*text);
    } catch (const Error &e) {
        throw Error(what + ": \"" + name + "\": " + e.what());
    }
}

std::optional<IpPrefix> prefix_field(const json &j, const char *name, const std::string &what)
{
    return parsed(text_field(j, name, what), IpPrefix::parse, what, name);
}

std::optional<IpAddr> addr_field(const json &j, const char *name, const std::string &what)
{
    return parsed(text_field(j, name, what), IpAddr::parse, what, name);
}

void require_family(const std::optional<IpPrefix> &p, bool v4, const char *name, const std::string &what)
{
    if (p && p->is_v4() != v4)
        throw Error(what + ": \"" + name + "\" must be an " + (v4 ? "IPv4" : "IPv6") + " prefix");
}

void require_fits(const IpPrefix &network, int subnet_len, const char *len_name, const std::string &what)
{
    if (subnet_len < network.len)
        throw Error(what + ": \"" + len_name + "\" " + std::to_string(subnet_len) + " is shorter than the network " +
                    network.str());
}

} // namespace

std::string_view backend_name(ClusterBackend b)
{
    return b == ClusterBackend::Vxlan ? "vxlan" : "host-gw";
}

std::optional<ClusterBackend> backend_from_name(std::string_view name)
{
    if (name == "host-gw")
        return ClusterBackend::HostGw;
    if (name == "vxlan")
        return ClusterBackend::Vxlan;
    return std::nullopt;
}

ClusterConfig ClusterConfig::parse(std::string_view json_text)
{
    const std::string what = "the cluster config";
    const json j = parse_object(json_text, what);
    ClusterConfig c;
    c.network = prefix_field(j, "Network", what);
    require_family(c.network, true, "Network", what);
    const bool v6 = j.contains("EnableIPv6") && j["EnableIPv6"].is_boolean() && j["EnableIPv6"].get<bool>();
    if (v6) {
        c.ipv6_network = prefix_field(j, "IPv6Network", what);
        if (!c.ipv6_network)
            throw Error(what + ": \"EnableIPv6\" needs \"IPv6Network\"");
        require_family(c.ipv6_network, false, "IPv6Network", what);
    }
    if (!c.network && !c.ipv6_network)
        throw Error(what + ": no \"Network\" (the IPv4 cluster network, e.g. 10.1.0.0/16)");
    c.subnet_len = int_field(j, "SubnetLen", c.network && c.network->len >= 24 ? c.network->len + 1 : 24, 1, 30, what);
    c.ipv6_subnet_len = int_field(j, "IPv6SubnetLen", 64, 1, 126, what);
    if (c.network)
        require_fits(*c.network, c.subnet_len, "SubnetLen", what);
    if (c.ipv6_network)
        require_fits(*c.ipv6_network, c.ipv6_subnet_len, "IPv6SubnetLen", what);
    c.subnet_min = addr_field(j, "SubnetMin", what);
    c.subnet_max = addr_field(j, "SubnetMax", what);
    for (const auto &[bound, name] : {std::pair{c.subnet_min, "SubnetMin"}, std::pair{c.subnet_max, "SubnetMax"}})
        if (bound && (!c.network || !c.network->contains(*bound)))
            throw Error(what + ": \"" + name + "\" " + bound->str() + " is outside the network");
    if (const auto it = j.find("Backend"); it != j.end() && !it->is_null()) {
        if (!it->is_object())
            throw Error(what + ": \"Backend\" must be an object");
        const std::string type = text_field(*it, "Type", what).value_or("udp");
        const auto backend = backend_from_name(type);
        if (!backend)
            throw Error(what + ": backend \"" + type + "\" is not one flatpath speaks (host-gw, vxlan)");
        c.backend = *backend;
        c.vni = static_cast<std::uint32_t>(int_field(*it, "VNI", 1, 1, (1 << 24) - 1, what));
        c.vxlan_port = static_cast<std::uint16_t>(int_field(*it, "Port", 8472, 1, 65535, what));
    }
    return c;
}

std::string ClusterConfig::dump() const
{
    json j;
    if (network) {
        j["Network"] = network->str();
        j["SubnetLen"] = subnet_len;
    }
    if (subnet_min)
        j["SubnetMin"] = subnet_min->str();
    if (subnet_max)
        j["SubnetMax"] = subnet_max->str();
    if (ipv6_network) {
        j["EnableIPv6"] = true;
        j["IPv6Network"] = ipv6_network->str();
        j["IPv6SubnetLen"] = ipv6_subnet_len;
    }
    j["Backend"] = {{"Type", std::string(backend_name(backend))}};
    if (backend == ClusterBackend::Vxlan) {
        j["Backend"]["VNI"] = vni;
        j["Backend"]["Port"] = vxlan_port;
    }
    return j.dump();
}

std::string subnet_key(const IpPrefix &subnet, const std::optional<IpPrefix> &ipv6_subnet)
{
    std::string key = subnet.network.str() + "-" + std::to_string(subnet.len);
    if (ipv6_subnet)
        key += "&" + ipv6_subnet->network.str() + "-" + std::to_string(ipv6_subnet->len);
    return key;
}

std::pair<IpPrefix, std::optional<IpPrefix>> parse_subnet_key(std::string_view key)
{
    const std::string_view name = key.substr(key.rfind('/') == std::string_view::npos ? 0 : key.rfind('/') + 1);
    const auto as_prefix = [&](std::string_view part, bool v4) {
        const auto dash = part.rfind('-');
        if (dash == std::string_view::npos)
            throw Error("subnet key '" + std::string(key) + "': not ADDRESS-LENGTH");
        std::string text(part);
        text[dash] = '/';
        IpPrefix p;
        try {
            p = IpPrefix::parse(text);
        } catch (const Error &e) {
            throw Error("subnet key '" + std::string(key) + "': " + e.what());
        }
        if (p.is_v4() != v4)
            throw Error("subnet key '" + std::string(key) + "': " + (v4 ? "the first subnet must be IPv4" : "the second subnet must be IPv6"));
        return p;
    };
    const auto amp = name.find('&');
    const IpPrefix v4 = as_prefix(name.substr(0, amp), true);
    if (amp == std::string_view::npos)
        return {v4, std::nullopt};
    return {v4, as_prefix(name.substr(amp + 1), false)};
}

std::string subnet_value(const SubnetRecord &r)
{
    json j = {{"PublicIP", r.public_ip.str()}, {"BackendType", std::string(backend_name(r.backend))}};
    if (r.public_ipv6)
        j["PublicIPv6"] = r.public_ipv6->str();
    j["BackendData"] = r.backend_data;
    return j.dump();
}

SubnetRecord parse_subnet_record(std::string_view key, std::string_view value, std::int64_t lease)
{
    const std::string what = "subnet record '" + std::string(key) + "'";
    const auto [subnet, ipv6_subnet] = parse_subnet_key(key);
    const json j = parse_object(value, what);
    const auto public_ip = addr_field(j, "PublicIP", what);
    if (!public_ip || !public_ip->is_v4())
        throw Error(what + ": \"PublicIP\" must be the host's IPv4 address");
    SubnetRecord r{subnet, ipv6_subnet, *public_ip, addr_field(j, "PublicIPv6", what)};
    if (r.public_ipv6 && r.public_ipv6->is_v4())
        throw Error(what + ": \"PublicIPv6\" must be an IPv6 address");
    const std::string type = text_field(j, "BackendType", what).value_or("");
    const auto backend = backend_from_name(type);
    if (!backend)
        throw Error(what + ": backend \"" + type + "\" is not one flatpath speaks (host-gw, vxlan)");
    r.backend = *backend;
    if (j.contains("BackendData"))
        r.backend_data = j["BackendData"];
    r.lease = lease;
    return r;
}

} // namespace fp

#include "net_config.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "cni_error.hpp"
#include "error.hpp"
#include "flatpath_abi.h"
#include "policy.hpp"
#include "port_spec.hpp"
#include "subnet_env.hpp"

namespace fp::cni {

namespace {

[[noreturn]] void invalid(const std::string &msg)
{
    throw CniError(ErrorCode::InvalidConfig, msg);
}

std::string string_at(const nlohmann::json &j, const char *key, const std::string &fallback = "")
{
    if (!j.contains(key))
        return fallback;
    if (!j[key].is_string())
        invalid(std::string("\"") + key + "\" must be a string");
    return j[key];
}

// "policy": {"egress": {"default": "deny", "allow": ["10.0.0.0/8:443/tcp"], "deny": [...]},
//            "ingress": {...}}: the container's firewall (see tables/policy.hpp for an item).
EndpointPolicy policy_at(const nlohmann::json &c)
{
    const nlohmann::json &p = c["policy"];
    if (!p.is_object())
        invalid("\"policy\" must be an object with \"ingress\" and/or \"egress\"");
    EndpointPolicy policy;
    for (const auto &[key, side] : p.items()) {
        if (key != "ingress" && key != "egress")
            invalid("\"policy\": unknown key \"" + key + "\" (ingress or egress)");
        const std::string where = "\"policy\": \"" + key + "\"";
        if (!side.is_object())
            invalid(where + " must be an object (\"default\", \"allow\", \"deny\")");
        const fp_policy_dir dir = key == "ingress" ? FP_POLICY_IN : FP_POLICY_OUT;
        for (const auto &[field, value] : side.items()) {
            try {
                if (field == "default") {
                    if (!value.is_string())
                        invalid(where + ": \"default\" must be \"allow\" or \"deny\"");
                    policy.defaults[dir] = parse_policy_action(value.get<std::string>());
                } else if (field == "allow" || field == "deny") {
                    if (!value.is_array())
                        invalid(where + ": \"" + field + "\" must be a list of strings");
                    for (const nlohmann::json &item : value) {
                        if (!item.is_string())
                            invalid(where + ": \"" + field + "\" must be a list of strings");
                        policy.rules.push_back(parse_policy_item(item.get<std::string>(), dir,
                                                                 parse_policy_action(field)));
                    }
                } else {
                    invalid(where + ": unknown key \"" + field + "\" (default, allow, deny)");
                }
            } catch (const Error &e) {
                invalid(where + ": " + e.what());
            }
        }
    }
    try {
        policy.validate();
    } catch (const Error &e) {
        invalid(std::string("\"policy\": ") + e.what());
    }
    return policy;
}

IpAddr ip_from(const std::string &text, const std::string &where)
{
    try {
        // Runtimes send requested addresses with or without a prefix length.
        return IpAddr::parse(text.substr(0, text.find('/')));
    } catch (const std::exception &e) {
        invalid(where + ": " + e.what());
    }
}

void add_pool(std::vector<IpPool> &pools, IpPool p)
{
    for (const IpPool &q : pools)
        if (q.is_v4() == p.is_v4())
            invalid("more than one " + std::string(p.is_v4() ? "IPv4" : "IPv6") + " range: one per family is supported");
    pools.push_back(std::move(p));
}

PortMapping port_mapping(const nlohmann::json &m)
{
    if (!m.is_object() || !m.contains("hostPort") || !m.contains("containerPort") || !m["hostPort"].is_number_integer() ||
        !m["containerPort"].is_number_integer())
        invalid("each portMappings entry needs integer \"hostPort\" and \"containerPort\": " + m.dump());
    const auto port = [&](const char *key) {
        const long v = m[key].get<long>();
        if (v < 1 || v > 65535)
            invalid(std::string("portMappings ") + key + " " + std::to_string(v) + " is not a port (1-65535)");
        return static_cast<std::uint16_t>(v);
    };
    PortMapping pm{port("hostPort"), port("containerPort"), 6, std::nullopt};
    const std::string proto = string_at(m, "protocol", "tcp");
    try {
        pm.proto = parse_protocol(proto);
    } catch (const std::exception &e) {
        invalid(std::string("portMappings: ") + e.what());
    }
    const std::string host_ip = string_at(m, "hostIP");
    if (!host_ip.empty())
        pm.host_ip = ip_from(host_ip, "portMappings hostIP");
    return pm;
}

} // namespace

namespace {

// CNI_ARGS keys this plugin reads, and those that runtimes send for everyone (the CNI
// conventions' K8S_* keys); anything else is refused unless IgnoreUnknown is set.
void check_args(const Request &req)
{
    static const std::set<std::string> known = {"IgnoreUnknown", "IP", "MAC", "K8S_POD_NAME", "K8S_POD_NAMESPACE",
                                                "K8S_POD_INFRA_CONTAINER_ID", "K8S_POD_UID"};
    const auto ignore = req.args.find("IgnoreUnknown");
    if (ignore != req.args.end()) {
        std::string v = ignore->second;
        std::transform(v.begin(), v.end(), v.begin(), [](unsigned char ch) { return std::tolower(ch); });
        if (v == "1" || v == "true")
            return;
        if (v != "0" && v != "false")
            invalid("CNI_ARGS IgnoreUnknown=" + ignore->second + " is not 1, 0, true or false");
    }
    for (const auto &[key, value] : req.args)
        if (!known.contains(key))
            invalid("CNI_ARGS has the unknown key " + key + " (set IgnoreUnknown=1 to pass keys for other plugins)");
}

} // namespace

NetConfig NetConfig::parse(const Request &req)
{
    // DEL must clean up whatever it is given; ADD and CHECK judge their arguments.
    if (req.command == Command::Add || req.command == Command::Check)
        check_args(req);
    const nlohmann::json &c = req.config;
    NetConfig n;
    n.name = string_at(c, "name");
    if (n.name.empty() || n.name.find('/') != std::string::npos || n.name == "." || n.name == "..")
        invalid("\"name\" must name the network (no '/')");
    const std::string mode = string_at(c, "mode", "routed");
    if (mode != "routed" && mode != "bridge")
        invalid("\"mode\" must be \"routed\" or \"bridge\", not \"" + mode + "\"");
    n.bridge_mode = mode == "bridge";
    n.bridge = string_at(c, "bridge", "fpbr0");
    if (n.bridge.empty() || n.bridge.size() > 15 || n.bridge.find('/') != std::string::npos)
        invalid("\"bridge\" must be an interface name (at most 15 characters)");
    if (c.contains("ipam") && !c["ipam"].empty()) {
        if (!c["ipam"].is_object())
            invalid("\"ipam\" must be an object naming an IPAM plugin (\"type\")");
        n.ipam_type = string_at(c["ipam"], "type");
        if (n.ipam_type.empty())
            invalid("\"ipam\" needs a \"type\" (e.g. host-local)");
        if (c.contains("subnet") || c.contains("ranges"))
            invalid("give either \"ipam\" or \"subnet\"/\"ranges\", not both");
    }

    // "subnetFile": the subnets (and MTU, masquerade) of a subnet.env, Flannel's or `flatpath
    // daemon`'s: this host's lease of a cluster network.
    std::optional<SubnetEnv> lease;
    if (c.contains("subnetFile")) {
        if (c.contains("subnet") || c.contains("ranges") || n.delegated_ipam())
            invalid("give either \"subnetFile\" or \"subnet\"/\"ranges\"/\"ipam\", not both");
        const std::string path = string_at(c, "subnetFile");
        if (path.empty() || path[0] != '/')
            invalid("\"subnetFile\" must be an absolute path (/run/flannel/subnet.env)");
        try {
            lease = SubnetEnv::read(path);
        } catch (const Error &e) {
            // No lease yet (the daemon is still starting): the runtime may try again. DEL
            // needs no addresses to undo what ADD did.
            if (req.command == Command::Add || req.command == Command::Check)
                throw CniError(ErrorCode::TryAgainLater, e.what());
        }
        if (lease) {
            if (lease->subnet)
                add_pool(n.pools, IpPool::parse(lease->subnet->str()));
            if (lease->ipv6_subnet)
                add_pool(n.pools, IpPool::parse(lease->ipv6_subnet->str()));
            n.ip_masq = lease->ip_masq;
            n.mtu = lease->mtu;
        }
    }
    if (c.contains("subnet"))
        add_pool(n.pools, IpPool::parse(string_at(c, "subnet")));
    if (c.contains("ranges")) {
        if (!c["ranges"].is_array())
            invalid("\"ranges\" must be a list of range sets");
        for (const auto &set : c["ranges"]) {
            if (!set.is_array() || set.size() != 1 || !set[0].is_object())
                invalid("each range set in \"ranges\" must hold one range object (more are not supported yet)");
            const auto &r = set[0];
            add_pool(n.pools, IpPool::parse(string_at(r, "subnet"), string_at(r, "rangeStart"), string_at(r, "rangeEnd"),
                                            string_at(r, "gateway")));
        }
    }
    if (n.pools.empty() && !n.delegated_ipam() && !(c.contains("subnetFile") && !lease))
        invalid("no addresses to hand out: set \"subnet\", \"ranges\", \"subnetFile\" or \"ipam\"");
    if (n.bridge_mode && n.delegated_ipam())
        throw CniError(ErrorCode::UnsupportedField, "bridge mode with delegated \"ipam\" is not supported yet");
    // In bridge mode the bridge is the containers' gateway: the range's "gateway", else its
    // first address, which is then not handed out.
    if (n.bridge_mode)
        for (IpPool &p : n.pools)
            if (!p.gateway())
                p = p.with_gateway(p.first());

    // "lanUplink": the containers' addresses are the LAN's own (the range is part of the
    // uplink's subnet), and the host answers ARP and neighbour solicitations for them there:
    // LAN hosts reach them directly, by address, with no route and no NAT.
    if (c.contains("lanUplink")) {
        n.lan_uplink = string_at(c, "lanUplink");
        if (n.lan_uplink.empty() || n.lan_uplink.size() > 15 || n.lan_uplink.find('/') != std::string::npos)
            invalid("\"lanUplink\" must be an interface name (at most 15 characters)");
        if (n.bridge_mode || n.delegated_ipam() || lease)
            invalid("\"lanUplink\" takes its addresses from \"subnet\" or \"ranges\" in routed mode (not a bridge, "
                    "an \"ipam\" plugin or a subnet file)");
        n.ip_masq = false; // LAN addresses are reachable as they are: nothing to translate
    }
    if (c.contains("ipMasq") && lease)
        invalid("\"ipMasq\" comes from the subnet file's FLANNEL_IPMASQ: give one or the other");
    if (c.contains("ipMasq")) {
        if (!c["ipMasq"].is_boolean())
            invalid("\"ipMasq\" must be true or false");
        n.ip_masq = c["ipMasq"].get<bool>();
    }
    if (c.contains("policy"))
        n.policy = policy_at(c);
    if (c.contains("mtu")) {
        if (!c["mtu"].is_number_integer() || c["mtu"].get<long>() < 68 || c["mtu"].get<long>() > 65535)
            invalid("\"mtu\" must be an integer from 68 to 65535");
        n.mtu = c["mtu"].get<std::uint32_t>();
    }
    if (c.contains("uplinks")) {
        if (!c["uplinks"].is_array())
            invalid("\"uplinks\" must be a list of interface names");
        for (const auto &u : c["uplinks"]) {
            if (!u.is_string())
                invalid("\"uplinks\" must be a list of interface names");
            n.uplinks.push_back(u);
        }
    }
    // The LAN uplink is attached with the others: what LAN hosts send the containers is
    // delivered by its program.
    if (!n.lan_uplink.empty() && std::find(n.uplinks.begin(), n.uplinks.end(), n.lan_uplink) == n.uplinks.end())
        n.uplinks.push_back(n.lan_uplink);
    if (c.contains("xdpMode")) {
        try {
            n.xdp_mode = parse_xdp_mode(string_at(c, "xdpMode"));
        } catch (const Error &e) {
            invalid(std::string("\"xdpMode\": ") + e.what());
        }
    }
    // The conflist alone says where the pins and leases are: Podman runs some DELs from
    // processes without the caller's environment (conmon's cleanup), so an environment
    // variable here would send them to the default place and leave the real state behind.
    n.pin_root = string_at(c, "pinRoot", FP_PIN_ROOT_DEFAULT);
    n.state_dir = string_at(c, "stateDir", kStateDirDefault);
    for (const std::string *dir : {&n.pin_root, &n.state_dir})
        if (!dir->starts_with("/"))
            invalid("\"pinRoot\" and \"stateDir\" must be absolute paths, not \"" + *dir + "\"");
    if (c.contains("dns"))
        n.dns = c["dns"];

    const nlohmann::json rc = c.value("runtimeConfig", nlohmann::json::object());
    if (rc.contains("portMappings")) {
        if (!rc["portMappings"].is_array())
            invalid("runtimeConfig.portMappings must be a list");
        for (const auto &m : rc["portMappings"])
            n.port_mappings.push_back(port_mapping(m));
    }
    if (rc.contains("ips")) {
        if (!rc["ips"].is_array())
            invalid("runtimeConfig.ips must be a list");
        for (const auto &ip : rc["ips"])
            n.requested_ips.push_back(ip_from(ip.is_string() ? ip.get<std::string>() : "", "runtimeConfig.ips"));
    }
    if (rc.contains("mac") && rc["mac"].is_string() && !rc["mac"].get<std::string>().empty()) {
        try {
            n.mac = MacAddr::parse(rc["mac"].get<std::string>());
        } catch (const std::exception &e) {
            invalid(std::string("runtimeConfig.mac: ") + e.what());
        }
    }
    if (const auto ip = req.args.find("IP"); ip != req.args.end())
        for (std::size_t at = 0; at < ip->second.size();) {
            const auto comma = ip->second.find(',', at);
            n.requested_ips.push_back(ip_from(ip->second.substr(at, comma - at), "CNI_ARGS IP"));
            at = comma == std::string::npos ? ip->second.size() : comma + 1;
        }
    if (const auto mac = req.args.find("MAC"); mac != req.args.end()) {
        try {
            n.mac = MacAddr::parse(mac->second);
        } catch (const std::exception &e) {
            invalid(std::string("CNI_ARGS MAC: ") + e.what());
        }
    }
    if (n.mac && (n.mac->is_multicast() || n.mac->is_zero()))
        invalid("MAC " + n.mac->str() + " is not a unicast address");
    return n;
}

} // namespace fp::cni

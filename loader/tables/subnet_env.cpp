#include "subnet_env.hpp"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "error.hpp"

namespace fp {

namespace {

// "10.1.17.1/24" -> 10.1.17.0/24: Flannel writes the subnet's first address.
IpPrefix subnet_of(const std::string &text)
{
    const auto slash = text.find('/');
    if (slash == std::string::npos)
        throw Error("'" + text + "' is not ADDRESS/LENGTH");
    const IpAddr addr = IpAddr::parse(text.substr(0, slash));
    // The length, checked as a prefix of the unspecified address (which has no host bits).
    const IpPrefix length = IpPrefix::parse(addr.any_of_family().str() + text.substr(slash));
    return IpPrefix::of(addr, length.len);
}

// The subnet's first address with its length, as Flannel writes it.
std::string first_address(const IpPrefix &p)
{
    fp_addr raw = p.network.raw();
    raw.b[15] = static_cast<std::uint8_t>(raw.b[15] + 1);
    return IpAddr::from_raw(raw).str() + "/" + std::to_string(p.len);
}

} // namespace

SubnetEnv SubnetEnv::read(const std::string &path)
{
    std::ifstream in(path);
    if (!in)
        throw Error("cannot read " + path + " (is Flannel or `flatpath daemon --etcd-endpoints` running?)");
    SubnetEnv env;
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
        const auto eq = line.find('=');
        if (line.empty() || line[0] == '#' || eq == std::string::npos)
            continue;
        const std::string name = line.substr(0, eq), value = line.substr(eq + 1);
        try {
            if (name == "FLANNEL_NETWORK")
                env.network = IpPrefix::parse(value);
            else if (name == "FLANNEL_SUBNET")
                env.subnet = subnet_of(value);
            else if (name == "FLANNEL_IPV6_NETWORK")
                env.ipv6_network = IpPrefix::parse(value);
            else if (name == "FLANNEL_IPV6_SUBNET")
                env.ipv6_subnet = subnet_of(value);
            else if (name == "FLANNEL_MTU") {
                const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), env.mtu);
                if (ec != std::errc{} || end != value.data() + value.size() || env.mtu < 576 || env.mtu > 65535)
                    throw Error("'" + value + "' is not an MTU (576-65535)");
            } else if (name == "FLANNEL_IPMASQ") {
                if (value != "true" && value != "false")
                    throw Error("'" + value + "' is neither true nor false");
                env.ip_masq = value == "true";
            }
        } catch (const Error &e) {
            throw Error(path + ":" + std::to_string(n) + ": " + name + ": " + e.what());
        }
    }
    if (env.subnet && !env.subnet->is_v4())
        throw Error(path + ": FLANNEL_SUBNET must be IPv4");
    if (env.ipv6_subnet && env.ipv6_subnet->is_v4())
        throw Error(path + ": FLANNEL_IPV6_SUBNET must be IPv6");
    if (!env.subnet && !env.ipv6_subnet)
        throw Error(path + ": no FLANNEL_SUBNET or FLANNEL_IPV6_SUBNET");
    return env;
}

void SubnetEnv::write(const std::string &path) const
{
    std::ostringstream out;
    if (network)
        out << "FLANNEL_NETWORK=" << network->str() << "\n";
    if (subnet)
        out << "FLANNEL_SUBNET=" << first_address(*subnet) << "\n";
    if (ipv6_network)
        out << "FLANNEL_IPV6_NETWORK=" << ipv6_network->str() << "\n";
    if (ipv6_subnet)
        out << "FLANNEL_IPV6_SUBNET=" << first_address(*ipv6_subnet) << "\n";
    out << "FLANNEL_MTU=" << mtu << "\n";
    out << "FLANNEL_IPMASQ=" << (ip_masq ? "true" : "false") << "\n";
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    const std::string tmp = path + ".tmp";
    {
        std::ofstream f(tmp, std::ios::trunc);
        f << out.str();
        f.flush();
        if (!f)
            throw Error("cannot write " + tmp);
    }
    std::filesystem::rename(tmp, path, ec);
    if (ec)
        throw Error("cannot rename " + tmp + " to " + path + ": " + ec.message());
}

} // namespace fp

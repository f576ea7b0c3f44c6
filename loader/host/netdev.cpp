#include "netdev.hpp"

#include <linux/ethtool.h>
#include <net/if.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "error.hpp"
#include "netlink.hpp"
#include "unique_fd.hpp"

namespace fp {

NetDev NetDev::by_name(const std::string &name)
{
    if (name.empty() || name.size() >= 16)
        throw Error("'" + name + "' is not a valid interface name");
    if (auto dev = Netlink().link(name))
        return *dev;
    throw Error("no network interface named " + name);
}

std::optional<NetDev> NetDev::by_index(std::uint32_t ifindex)
{
    return Netlink().link(ifindex);
}

std::vector<NetDev> NetDev::all()
{
    return Netlink().links();
}

namespace {

// One SIOCETHTOOL request on dev; request starts with its ETHTOOL_* command. 0 or errno.
int ethtool_request(int sock_fd, const std::string &dev, void *request)
{
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, dev.c_str(), IFNAMSIZ - 1);
    ifr.ifr_data = static_cast<char *>(request);
    return ::ioctl(sock_fd, SIOCETHTOOL, &ifr) == 0 ? 0 : errno;
}

} // namespace

int enable_gro(int sock_fd, const std::string &dev)
{
    ethtool_value v{ETHTOOL_SGRO, 1};
    return ethtool_request(sock_fd, dev, &v);
}

bool receives_from_wire(const NetDev &dev)
{
    if (!dev.type.empty() || !dev.l2)
        return false;
    const UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (sock.get() < 0)
        throw_errno("open a socket to ask ethtool about " + dev.name, errno);
    ethtool_drvinfo info{};
    info.cmd = ETHTOOL_GDRVINFO;
    const bool ok = ethtool_request(sock.get(), dev.name, &info) == 0;
    return ok && info.bus_info[0] != '\0';
}

void require_min_mtu(const NetDev &dev, const std::string &what)
{
    if (dev.mtu < FP_MIN_MTU)
        throw Error(dev.name + " has MTU " + std::to_string(dev.mtu) + ": " + what + " needs at least " +
                    std::to_string(FP_MIN_MTU) + " (IPv6's minimum)");
}

fp_ep_kind NetDev::endpoint_kind() const
{
    if (type == "veth")
        return FP_EP_VETH;
    if (type == "tun")
        return l2 ? FP_EP_TAP : FP_EP_TUN;
    throw Error(name + " is a " + (type.empty() ? std::string("physical") : type) +
                " device; an endpoint must be a veth, tap or tun device");
}

} // namespace fp

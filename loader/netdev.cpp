#include "netdev.hpp"

#include <linux/ethtool.h>
#include <linux/if_arp.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <netlink/route/link.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "error.hpp"

namespace fp {

namespace {

struct NlSocket {
    NlSocket()
    {
        sock = nl_socket_alloc();
        if (!sock || nl_connect(sock, NETLINK_ROUTE) != 0) {
            nl_socket_free(sock);
            throw Error("cannot open a netlink route socket");
        }
    }
    ~NlSocket() { nl_socket_free(sock); }
    nl_sock *sock = nullptr;
};

NetDev from_link(rtnl_link *link)
{
    NetDev dev;
    dev.ifindex = static_cast<std::uint32_t>(rtnl_link_get_ifindex(link));
    dev.name = rtnl_link_get_name(link);
    if (const char *type = rtnl_link_get_type(link))
        dev.type = type;
    dev.l2 = rtnl_link_get_arptype(link) == ARPHRD_ETHER;
    dev.master = static_cast<std::uint32_t>(rtnl_link_get_master(link));
    dev.link = static_cast<std::uint32_t>(rtnl_link_get_link(link));
    if (nl_addr *addr = rtnl_link_get_addr(link); addr && nl_addr_get_len(addr) == 6)
        dev.mac = MacAddr::from(static_cast<const std::uint8_t *>(nl_addr_get_binary_addr(addr)));
    return dev;
}

std::optional<NetDev> query(int ifindex, const char *name)
{
    NlSocket nl;
    rtnl_link *raw = nullptr;
    if (rtnl_link_get_kernel(nl.sock, ifindex, name, &raw) != 0)
        return std::nullopt;
    std::unique_ptr<rtnl_link, void (*)(rtnl_link *)> link(raw, rtnl_link_put);
    return from_link(link.get());
}

} // namespace

NetDev NetDev::by_name(const std::string &name)
{
    if (name.empty() || name.size() >= 16)
        throw Error("'" + name + "' is not a valid interface name");
    if (auto dev = query(0, name.c_str()))
        return *dev;
    throw Error("no network interface named " + name);
}

std::optional<NetDev> NetDev::by_index(std::uint32_t ifindex)
{
    return query(static_cast<int>(ifindex), nullptr);
}

std::vector<NetDev> NetDev::all()
{
    NlSocket nl;
    nl_cache *raw = nullptr;
    if (rtnl_link_alloc_cache(nl.sock, AF_UNSPEC, &raw) != 0)
        throw Error("cannot list network interfaces over netlink");
    std::unique_ptr<nl_cache, void (*)(nl_cache *)> cache(raw, nl_cache_free);
    std::vector<NetDev> out;
    for (nl_object *o = nl_cache_get_first(cache.get()); o; o = nl_cache_get_next(o))
        out.push_back(from_link(reinterpret_cast<rtnl_link *>(o)));
    return out;
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
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        throw_errno("open a socket to ask ethtool about " + dev.name, errno);
    ethtool_drvinfo info{};
    info.cmd = ETHTOOL_GDRVINFO;
    const bool ok = ethtool_request(fd, dev.name, &info) == 0;
    ::close(fd);
    return ok && info.bus_info[0] != '\0';
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

#include "host_veth.hpp"

#include <netlink/route/link.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

#include "error.hpp"
#include "netns_task.hpp"

namespace fp {

namespace {

struct LinkCache {
    LinkCache()
    {
        sock = nl_socket_alloc();
        if (!sock || nl_connect(sock, NETLINK_ROUTE) != 0 || rtnl_link_alloc_cache(sock, AF_UNSPEC, &cache) != 0) {
            if (sock)
                nl_socket_free(sock);
            throw Error("cannot read network interfaces over netlink");
        }
    }
    ~LinkCache()
    {
        nl_cache_free(cache);
        nl_socket_free(sock);
    }
    nl_sock *sock = nullptr;
    nl_cache *cache = nullptr;
};

bool has_mac(rtnl_link *link, const MacAddr &mac)
{
    nl_addr *addr = rtnl_link_get_addr(link);
    return addr && nl_addr_get_len(addr) == 6 &&
           MacAddr::from(static_cast<const std::uint8_t *>(nl_addr_get_binary_addr(addr))) == mac;
}

// Runs in the container's namespace: "IFINDEX PEER_IFINDEX" of its veth with `mac`,
// after turning GRO on for it, as flatpath-cni does for its own containers: without
// it the frames XDP on an uplink redirects to the container would be dropped.
std::string container_side(const MacAddr &mac)
{
    LinkCache links;
    for (nl_object *o = nl_cache_get_first(links.cache); o; o = nl_cache_get_next(o)) {
        auto *link = reinterpret_cast<rtnl_link *>(o);
        const char *type = rtnl_link_get_type(link);
        if (!type || std::string(type) != "veth" || !has_mac(link, mac))
            continue;
        const std::string name = rtnl_link_get_name(link);
        const int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        const int err = sock < 0 ? errno : enable_gro(sock, name);
        if (sock >= 0)
            ::close(sock);
        if (err)
            throw Error("cannot turn GRO on for " + name + ": " + std::strerror(err));
        return std::to_string(rtnl_link_get_ifindex(link)) + " " + std::to_string(rtnl_link_get_link(link));
    }
    throw Error("no veth with MAC " + mac.str());
}

// The peer ifindex (IFLA_LINK) of this namespace's device ifindex, 0 when it has none.
int peer_of(std::uint32_t ifindex)
{
    LinkCache links;
    rtnl_link *link = rtnl_link_get(links.cache, static_cast<int>(ifindex));
    if (!link)
        return 0;
    const int peer = rtnl_link_get_link(link);
    rtnl_link_put(link);
    return peer;
}

} // namespace

std::string container_netns_path(const ContainerInfo &c)
{
    if (!c.sandbox_key.empty() && std::filesystem::exists(c.sandbox_key))
        return c.sandbox_key;
    if (c.pid > 0)
        return "/proc/" + std::to_string(c.pid) + "/ns/net";
    throw Error("container " + c.name + " has no network namespace this host can see (no SandboxKey, no Pid)");
}

NetDev find_host_veth(const std::string &netns_path, const MacAddr &mac)
{
    const std::string where = "the container's interface with MAC " + mac.str() + " (in " + netns_path + ")";
    int inside = 0, peer = 0;
    try {
        const std::string ids = run_in_netns(netns_path, [&] { return container_side(mac); });
        if (std::sscanf(ids.c_str(), "%d %d", &inside, &peer) != 2)
            throw Error("unexpected answer '" + ids + "'");
    } catch (const Error &e) {
        throw Error(where + ": " + e.what());
    }
    const auto dev = NetDev::by_index(static_cast<std::uint32_t>(peer));
    // The ifindex alone could name an unrelated device of this namespace: its peer must
    // be the container's interface.
    if (!dev || dev->type != "veth" || peer_of(dev->ifindex) != inside)
        throw Error(where + ": its peer (ifindex " + std::to_string(peer) + ") is not a veth in this namespace");
    return *dev;
}

} // namespace fp

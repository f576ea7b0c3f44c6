#include "host_veth.hpp"

#include <cstdio>

#include "error.hpp"
#include "netlink.hpp"
#include "netns_task.hpp"

namespace fp {

namespace {

// Runs in the container's namespace: "IFINDEX PEER_IFINDEX" of its veth with `mac`,
// after turning GRO on for it, as flatpath-cni does for its own containers: without
// it the frames XDP on an uplink redirects to the container would be dropped.
std::string container_side(const MacAddr &mac)
{
    for (const NetDev &dev : NetDev::all()) {
        if (dev.type != "veth" || dev.mac != mac)
            continue;
        Netlink().enable_gro(dev.name);
        return std::to_string(dev.ifindex) + " " + std::to_string(dev.link);
    }
    throw Error("no veth with MAC " + mac.str());
}

} // namespace

NetDev find_host_veth(const std::string &netns_path, const MacAddr &mac)
{
    const std::string where = "the container's interface with MAC " + mac.str() + " (in " + netns_path + ")";
    std::uint32_t inside = 0, peer = 0;
    try {
        const std::string ids = run_in_netns(netns_path, [&] { return container_side(mac); });
        if (std::sscanf(ids.c_str(), "%u %u", &inside, &peer) != 2)
            throw Error("unexpected answer '" + ids + "'");
    } catch (const Error &e) {
        throw Error(where + ": " + e.what());
    }
    const auto dev = NetDev::by_index(peer);
    // The ifindex alone could name an unrelated device of this namespace: its peer must
    // be the container's interface.
    if (!dev || dev->type != "veth" || dev->link != inside)
        throw Error(where + ": its peer (ifindex " + std::to_string(peer) + ") is not a veth in this namespace");
    return *dev;
}

} // namespace fp

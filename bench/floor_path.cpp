#include "floor_path.hpp"

#include <bpf/libbpf.h>

#include <cerrno>

#include "attach.hpp"
#include "error.hpp"
#include "floor_path.skel.h"
#include "netdev.hpp"
#include "netns_scope.hpp"

namespace fp::bench {

// One direction's object: every IPv4 frame to out, with these MACs.
struct FloorPath::Direction {
    floor_path *obj = nullptr;

    Direction(std::uint32_t out, bool into_peer, const MacAddr &dst, const MacAddr &src)
    {
        obj = floor_path::open();
        if (!obj)
            throw_errno("open the bench's floor program", errno);
        obj->rodata->out_ifindex = out;
        obj->rodata->into_peer = into_peer ? 1 : 0;
        dst.copy_to(const_cast<std::uint8_t *>(obj->rodata->dst_mac));
        src.copy_to(const_cast<std::uint8_t *>(obj->rodata->src_mac));
        if (const int err = floor_path::load(obj); err != 0) {
            floor_path::destroy(obj);
            throw_errno("load the bench's floor program", -err);
        }
    }
    Direction(const Direction &) = delete;
    Direction &operator=(const Direction &) = delete;
    ~Direction() { floor_path::destroy(obj); }

    int tc() const { return bpf_program__fd(obj->progs.floor_tc); }
    int xdp() const { return bpf_program__fd(obj->progs.floor_xdp); }
};

FloorPath::FloorPath(const std::string &host_ns, const std::string &uplink, const MacAddr &uplink_mac,
                     const MacAddr &client_mac, const std::string &host_if, const MacAddr &host_if_mac,
                     const MacAddr &ctr_mac)
{
    const NetnsScope in(host_ns);
    const NetDev up = NetDev::by_name(uplink), veth = NetDev::by_name(host_if);
    in_ = std::make_unique<Direction>(veth.ifindex, true, ctr_mac, host_if_mac);
    out_ = std::make_unique<Direction>(up.ifindex, false, client_mac, uplink_mac);
    TcAttachment::attach(up.ifindex, up.name, in_->tc()).release();
    TcAttachment::attach(veth.ifindex, veth.name, out_->tc()).release();
}

FloorPath::~FloorPath() = default;

int FloorPath::inbound_tc() const
{
    return in_->tc();
}

int FloorPath::inbound_xdp() const
{
    return in_->xdp();
}

} // namespace fp::bench

#include "rx_sink.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "attach.hpp"
#include "error.hpp"
#include "netdev.hpp"
#include "netns_scope.hpp"
#include "rx_sink.skel.h"

namespace fp::bench {

struct RxSink::Skeleton {
    rx_sink *obj = nullptr;
    ~Skeleton() { rx_sink::destroy(obj); }
};

RxSink::RxSink(const std::string &netns, const std::string &dev, std::uint16_t port, Hook hook,
               const std::vector<std::uint8_t> &restore)
    : skel_(std::make_unique<Skeleton>()), netns_(netns)
{
    skel_->obj = rx_sink::open();
    if (!skel_->obj)
        throw_errno("open the bench's rx_sink program", errno);
    skel_->obj->rodata->sink_port = port;
    if (!restore.empty()) {
        if (restore.size() != sizeof skel_->obj->rodata->restore_frame || hook != Hook::Xdp)
            throw Error("the sink restores 60-byte frames, and only at XDP");
        std::copy(restore.begin(), restore.end(), const_cast<std::uint8_t *>(skel_->obj->rodata->restore_frame));
        skel_->obj->rodata->restore = 1;
    }
    if (const int err = rx_sink::load(skel_->obj); err != 0)
        throw_errno("load the bench's rx_sink program", -err);
    NetnsScope in(netns);
    const NetDev d = NetDev::by_name(dev);
    if (hook == Hook::TcIngress) {
        TcAttachment::attach(d.ifindex, d.name, bpf_program__fd(skel_->obj->progs.rx_sink)).release();
        return;
    }
    // Detached by hand in the destructor, which must enter the namespace first.
    XdpAttachment::attach(d.ifindex, d.name, bpf_program__fd(skel_->obj->progs.rx_sink_xdp), /*native=*/true).release();
    xdp_ifindex_ = d.ifindex;
}

RxSink::~RxSink()
{
    if (xdp_ifindex_ == 0)
        return;
    try {
        NetnsScope in(netns_);
        XdpAttachment::detach(xdp_ifindex_, bpf_program__fd(skel_->obj->progs.rx_sink_xdp));
    } catch (const std::exception &) {
        // The namespace is gone, and the program with it.
    }
}

std::uint64_t RxSink::count() const
{
    const long cpus = libbpf_num_possible_cpus();
    if (cpus <= 0)
        throw_errno("count the possible CPUs", static_cast<int>(-cpus));
    std::vector<std::uint64_t> per_cpu(static_cast<std::size_t>(cpus));
    const std::uint32_t key = 0;
    if (bpf_map_lookup_elem(bpf_map__fd(skel_->obj->maps.sink_count), &key, per_cpu.data()) != 0)
        throw_errno("read the sink's count", errno);
    std::uint64_t total = 0;
    for (std::uint64_t v : per_cpu)
        total += v;
    return total;
}

} // namespace fp::bench

// The bench's receiver (bpf/rx_sink.bpf.c) on a container's eth0: counts and drops
// the UDP datagrams sent to the bench's port, and lets everything else through.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace fp::bench {

class RxSink {
public:
    enum class Hook { TcIngress, Xdp };
    // Loads the program and attaches it to dev in netns at hook. The tc sink stays until
    // the namespace is removed (it passes other traffic); the XDP one, which would take
    // every later flood's frames, is detached on destruction. restore (XDP only, a 60-byte frame): what the sink writes
    // back into each frame it drops, for live-frames runs (see bpf/rx_sink.bpf.c).
    RxSink(const std::string &netns, const std::string &dev, std::uint16_t port, Hook hook,
           const std::vector<std::uint8_t> &restore = {});
    RxSink(const RxSink &) = delete;
    RxSink &operator=(const RxSink &) = delete;
    ~RxSink(); // never throws

    // Datagrams counted so far, over every CPU.
    std::uint64_t count() const;

private:
    struct Skeleton;
    std::unique_ptr<Skeleton> skel_;
    std::string netns_;
    std::uint32_t xdp_ifindex_ = 0; // set while the XDP sink is attached
};

} // namespace fp::bench

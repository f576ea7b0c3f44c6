// B-min's datapath: the bench's floor programs (bench/bpf/floor_path.bpf.c) on F's
// topology, one per direction, redirecting every IPv4 frame with no lookup. Loaded and
// attached in the host namespace; the tc filters go with the namespace's devices.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "mac_addr.hpp"

namespace fp::bench {

class FloorPath {
public:
    // The container's host-side veth (host_if, its peer's MAC ctr_mac) and the uplink
    // (uplink_mac; the client's MAC client_mac beyond it), all in host_ns.
    FloorPath(const std::string &host_ns, const std::string &uplink, const MacAddr &uplink_mac,
              const MacAddr &client_mac, const std::string &host_if, const MacAddr &host_if_mac,
              const MacAddr &ctr_mac);
    FloorPath(const FloorPath &) = delete;
    FloorPath &operator=(const FloorPath &) = delete;
    ~FloorPath();

    // The uplink's tc program (attached): into the container through its veth's peer.
    int inbound_tc() const;
    // Its XDP twin (not attached: a veth uplink breaks senders' checksum offload under
    // native XDP, PLATFORM.md); fed by live-frames test runs, it redirects to the
    // container's veth.
    int inbound_xdp() const;

private:
    struct Direction;
    std::unique_ptr<Direction> in_, out_;
};

} // namespace fp::bench

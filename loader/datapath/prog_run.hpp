// One run of a loaded program on a frame with BPF_PROG_TEST_RUN, as if the frame had
// arrived on a device: what `flatpath simulate`, the BPF program tests and the bench's
// program cost are made of. Nothing leaves the kernel: the output frame comes back.
#pragma once

#include <cstdint>
#include <vector>

namespace fp {

struct ProgRun {
    int error = 0;          // 0, or the errno of a run the kernel refused
    std::uint32_t retval = 0;
    std::vector<std::uint8_t> out; // the frame as the program left it
    std::uint32_t mark = 0; // tc: skb->mark afterwards (it starts at 0)
    std::uint32_t duration_ns = 0;
};

// prog_fd on `frame` as received on device ifindex, in an XDP context or an skb's (ifindex
// sets skb->dev, ingress_ifindex skb_iif, where routing starts from).
ProgRun run_program(int prog_fd, bool xdp, std::uint32_t ifindex, const std::vector<std::uint8_t> &frame);

} // namespace fp

#include "prog_run.hpp"

#include <bpf/bpf.h>

#include <cerrno>

namespace fp {

ProgRun run_program(int prog_fd, bool xdp, std::uint32_t ifindex, const std::vector<std::uint8_t> &frame)
{
    ProgRun r;
    r.out.resize(frame.size() + 256);
    bpf_test_run_opts opts{};
    opts.sz = sizeof opts;
    opts.data_in = frame.data();
    opts.data_size_in = static_cast<__u32>(frame.size());
    opts.data_out = r.out.data();
    opts.data_size_out = static_cast<__u32>(r.out.size());
    opts.repeat = 1; // a fresh packet every run: a repeated run would see the last run's rewrite
    __sk_buff skb{};
    xdp_md md{};
    if (xdp) {
        md.data_end = static_cast<__u32>(frame.size());
        md.ingress_ifindex = ifindex;
        opts.ctx_in = opts.ctx_out = &md;
        opts.ctx_size_in = opts.ctx_size_out = sizeof md;
    } else {
        skb.ifindex = ifindex;
        skb.ingress_ifindex = ifindex;
        opts.ctx_in = opts.ctx_out = &skb;
        opts.ctx_size_in = opts.ctx_size_out = sizeof skb;
    }
    if (bpf_prog_test_run_opts(prog_fd, &opts) != 0) {
        r.error = errno;
        r.out.clear();
        return r;
    }
    r.out.resize(opts.data_size_out);
    r.retval = opts.retval;
    r.mark = skb.mark;
    r.duration_ns = opts.duration;
    return r;
}

} // namespace fp

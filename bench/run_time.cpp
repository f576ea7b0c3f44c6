#include "run_time.hpp"

#include <bpf/bpf.h>
#include <unistd.h>

#include <cerrno>

#include "error.hpp"

namespace fp::bench {

RunTimeStats::RunTimeStats() : fd_(bpf_enable_stats(BPF_STATS_RUN_TIME))
{
    if (fd_ < 0)
        throw_errno("enable BPF run-time statistics", errno);
}

RunTimeStats::~RunTimeStats()
{
    ::close(fd_);
}

RunTimeStats::Snapshot RunTimeStats::of(int prog_fd)
{
    bpf_prog_info info{};
    __u32 len = sizeof info;
    if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) != 0)
        throw_errno("read a program's run statistics", errno);
    return {info.run_time_ns, info.run_cnt};
}

double RunTimeStats::per_run(const Snapshot &before, const Snapshot &after)
{
    const std::uint64_t runs = after.runs - before.runs;
    return runs ? static_cast<double>(after.run_time_ns - before.run_time_ns) / static_cast<double>(runs) : 0.0;
}

} // namespace fp::bench

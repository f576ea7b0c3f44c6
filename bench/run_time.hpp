// A program's own time per run while real traffic flows, from the kernel's BPF run
// statistics (BPF_ENABLE_STATS: on only while a RunTimeStats object lives, and only
// for this bench: the machine's kernel.bpf_stats_enabled is left alone). This is
// the in-flight counterpart of the test-run program cost: warm caches, real packets.
#pragma once

#include <cstdint>

namespace fp::bench {

class RunTimeStats {
public:
    RunTimeStats(); // starts collecting for every program
    RunTimeStats(const RunTimeStats &) = delete;
    RunTimeStats &operator=(const RunTimeStats &) = delete;
    ~RunTimeStats();

    struct Snapshot {
        std::uint64_t run_time_ns = 0;
        std::uint64_t runs = 0;
    };
    static Snapshot of(int prog_fd);
    // Nanoseconds per run between two snapshots.
    static double per_run(const Snapshot &before, const Snapshot &after);

private:
    int fd_ = -1;
};

} // namespace fp::bench

#include "packet_rate.hpp"

#include <bpf/bpf.h>
#include <dirent.h>
#include <net/if.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <sstream>
#include <vector>

#include "command.hpp"
#include "error.hpp"
#include "frame_generator.hpp"
#include "netns_task.hpp"
#include "packet.hpp"

namespace fp::bench {

namespace {

constexpr int kGeneratorCpu = 0;
constexpr int kDatapathCpu = 1;
// The datapath's CPU busy at least this much of the run: it, not the generator, set the
// rate. (Counting what the generator sent would not tell: an AF_PACKET socket blocks
// when its frames queue up, so it sends about what is delivered either way.)
constexpr double kSaturated = 0.9;

using Clock = std::chrono::steady_clock;

void pin_to_cpu(pid_t pid, int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (::sched_setaffinity(pid, sizeof set, &set) != 0)
        throw_errno("pin pid " + std::to_string(pid) + " to CPU " + std::to_string(cpu), errno);
}

// The client's frame: 60 bytes (64 on the wire with the FCS), UDP to the flood port.
Bytes flood_frame(const FloodPath &path)
{
    Packet p;
    p.src_mac = path.client_mac;
    p.dst_mac = path.next_hop_mac;
    p.l3 = L3::IPv4;
    p.src = path.client_addr;
    p.dst = path.target;
    p.proto = 17;
    p.sport = 40000;
    p.dport = kFloodPort;
    p.payload = 18;
    return p.bytes();
}

// Busy jiffies of one CPU (everything but idle and iowait), from /proc/stat.
std::uint64_t busy_jiffies(int cpu)
{
    std::ifstream stat("/proc/stat");
    const std::string want = "cpu" + std::to_string(cpu) + " ";
    for (std::string line; std::getline(stat, line);) {
        if (line.rfind(want, 0) != 0)
            continue;
        std::istringstream in(line.substr(want.size()));
        std::uint64_t v[8] = {};
        for (auto &x : v)
            in >> x;
        return v[0] + v[1] + v[2] + v[5] + v[6] + v[7]; // user nice system irq softirq steal
    }
    throw Error("no cpu" + std::to_string(cpu) + " line in /proc/stat");
}

// The generating child's answer: how long it sent, in seconds.
std::string elapsed_since(Clock::time_point start)
{
    return std::to_string(std::chrono::duration<double>(Clock::now() - start).count());
}

// Runs `generate` (which returns elapsed_since's text) and turns the sink's count and the
// datapath CPU's busy time around it into a PacketRate.
template <class Generate>
PacketRate observe(const RxSink &sink, Generate generate)
{
    const std::uint64_t count0 = sink.count(), busy0 = busy_jiffies(kDatapathCpu);
    const double seconds = std::stod(generate());
    const std::uint64_t delivered = sink.count() - count0, busy = busy_jiffies(kDatapathCpu) - busy0;
    if (delivered == 0)
        throw Error("no frame reached the container's sink: the configuration does not forward the flood");
    const double busy_s = static_cast<double>(busy) / static_cast<double>(::sysconf(_SC_CLK_TCK));
    PacketRate r;
    r.delivered_pps = static_cast<double>(delivered) / seconds;
    r.cpu_s_per_mpkt = busy_s / (static_cast<double>(delivered) / 1e6);
    r.generator_bound = busy_s / seconds < kSaturated;
    return r;
}

std::vector<pid_t> threads_named(const std::string &prefix)
{
    std::vector<pid_t> out;
    DIR *proc = ::opendir("/proc");
    if (!proc)
        throw_errno("list /proc", errno);
    while (const dirent *e = ::readdir(proc)) {
        const pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
        if (pid <= 0)
            continue;
        std::string comm;
        std::getline(std::ifstream("/proc/" + std::string(e->d_name) + "/comm"), comm);
        if (comm.rfind(prefix, 0) == 0)
            out.push_back(pid);
    }
    ::closedir(proc);
    return out;
}

} // namespace

FloodPath flood_path_of(const Testbed &tb)
{
    return {tb.client_ns(), tb.client_dev(), tb.client_mac(), tb.next_hop_mac(), tb.client_addr(), tb.target(),
            tb.rx_ns(), tb.rx_dev()};
}

void prepare_receive_path(Lab &lab, const FloodPath &path)
{
    if (::sysconf(_SC_NPROCESSORS_ONLN) < 2)
        throw Error("the packet-rate bench needs two CPUs (one generates, one forwards)");
    const std::string &dev = path.rx_dev;
    // A veth hands frames to its peer's NAPI ring only when GRO (or XDP) is on there and
    // the sender does no TSO; otherwise the receive runs inline on the sender's CPU.
    lab.in(path.client_ns, {"ethtool", "-K", path.client_dev, "tso", "off", "gso", "off"});
    lab.in(path.rx_ns, {"ethtool", "-K", dev, "gro", "on"});
    lab.in(path.rx_ns, {"sh", "-c", "echo 1 > /sys/class/net/" + dev + "/threaded"});
    const std::vector<pid_t> napi = threads_named("napi/" + dev + "-");
    if (napi.empty())
        throw Error("no threaded NAPI kthread for " + dev + " after enabling it");
    for (pid_t pid : napi)
        pin_to_cpu(pid, kDatapathCpu);
}

PacketRate measure_packet_rate(const FloodPath &path, const RxSink &sink, double seconds)
{
    const Bytes frame = flood_frame(path);
    return observe(sink, [&] {
        return run_in_netns(path.client_ns, [&] {
            pin_to_cpu(0, kGeneratorCpu);
            const auto start = Clock::now();
            send_frames_for(path.client_dev, frame, seconds);
            return elapsed_since(start);
        });
    });
}

PacketRate measure_live_frames_rate(Testbed &tb, int xdp_prog_fd, double seconds)
{
    const Bytes frame = flood_frame(flood_path_of(tb));
    const RxSink sink(tb.container_ns(), "eth0", kFloodPort, RxSink::Hook::Xdp, frame);
    const std::string uplink = tb.rx_dev();
    return observe(sink, [&] {
        // The test run resolves ingress_ifindex in the caller's namespace: the host's.
        return run_in_netns(tb.host_ns(), [&] {
            pin_to_cpu(0, kGeneratorCpu);
            xdp_md ctx{};
            ctx.data_end = static_cast<__u32>(frame.size());
            ctx.ingress_ifindex = ::if_nametoindex(uplink.c_str());
            const auto start = Clock::now();
            const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
            while (Clock::now() < end) {
                bpf_test_run_opts o{};
                o.sz = sizeof o;
                o.data_in = frame.data();
                o.data_size_in = static_cast<__u32>(frame.size());
                o.ctx_in = &ctx;
                o.ctx_size_in = sizeof ctx;
                o.repeat = 100000;
                o.flags = BPF_F_TEST_XDP_LIVE_FRAMES;
                if (bpf_prog_test_run_opts(xdp_prog_fd, &o) != 0)
                    throw_errno("live-frames test run of the uplink's XDP program", errno);
            }
            return elapsed_since(start);
        });
    });
}

} // namespace fp::bench

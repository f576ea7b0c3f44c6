#include "targets.hpp"

#include <cstdio>

namespace fp::bench {

namespace {

// The goals.
constexpr double kXdpRateVsB1 = 4.0;
constexpr double kTcRateVsB1 = 2.0;
constexpr double kTcpVsB0 = 0.97;
constexpr double kP50VsB0 = 1.05;
constexpr double kP50VsB1 = 0.75;
constexpr double kKeptAtLargestN = 0.95;
// Issue 18: program cost of the hit paths, and F against the floor of its own path.
constexpr double kXdpForwardNs = 40.0;
constexpr double kTcForwardNs = 60.0;
constexpr double kDnatEstablishedNs = 80.0;
constexpr double kVsFloor = 0.9;
constexpr double kReconcileMs = 1000.0; // at 1,000 containers
constexpr double kP50VsFloor = 1.05;
constexpr double kUpdateUs = 50.0;
constexpr double kBulkMs = 50.0;
constexpr double kCniAddVsBridge = 0.2;
constexpr double kAtLeastBaseline = 1.0;

const char *const kFlatpathConfigs[] = {"F-tc", "F-xdp"};

// The cost goal of a program-cost path (its name says which), 0 for a path without one.
double hit_path_goal(const std::string &path)
{
    if (path.find("miss") != std::string::npos)
        return 0;
    if (path.find("dnat") != std::string::npos || path.find("masq") != std::string::npos)
        return kDnatEstablishedNs;
    return path.rfind("xdp_uplink", 0) == 0 ? kXdpForwardNs : kTcForwardNs;
}

std::string num(double v)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

class Checker {
public:
    explicit Checker(const Results &r) : r_(r) {}

    // a / b (medians) against goal; skipped unless both were measured.
    void ratio(const Metric &m, const std::string &a, const std::string &b, std::uint32_t n, bool at_least, double goal)
    {
        const auto x = r_.stats(m, a, n), y = r_.stats(m, b, n);
        if (!x || !y || y->median == 0)
            return;
        const double v = x->median / y->median;
        out_.push_back({std::string(m.id) + " " + a + " / " + b + ", N=" + std::to_string(n), v,
                        (at_least ? ">= " : "<= ") + num(goal), at_least ? v >= goal : v <= goal});
    }
    // A figure against goal.
    void figure(const Metric &m, const std::string &series, std::uint32_t n, double goal)
    {
        if (const auto x = r_.stats(m, series, n))
            out_.push_back({std::string(m.id) + " " + series + ", N=" + std::to_string(n) + " (" + m.unit + ")", x->median,
                            "<= " + num(goal), x->median <= goal});
    }
    // A figure that must reach goal.
    void at_least(const Metric &m, const std::string &series, std::uint32_t n, double goal)
    {
        if (const auto x = r_.stats(m, series, n))
            out_.push_back({std::string(m.id) + " " + series + ", N=" + std::to_string(n) + " (" + m.unit + ")", x->median,
                            ">= " + num(goal), x->median >= goal});
    }
    // The series' value at the largest N keeps kKeptAtLargestN of its value at the smallest.
    // B0 has no entries at all: its row is the noise any scaling ratio carries in this run.
    void scaling(const Metric &m, const std::string &series)
    {
        const auto ns = r_.entries(m);
        if (ns.size() < 2)
            return;
        const auto lo = r_.stats(m, series, ns.front()), hi = r_.stats(m, series, ns.back());
        if (!lo || !hi || lo->median == 0 || hi->median == 0)
            return;
        const double kept = m.higher_is_better ? hi->median / lo->median : lo->median / hi->median;
        const bool reference = series == "B0";
        out_.push_back({std::string(m.id) + " " + series + ": N=" + std::to_string(ns.back()) + " keeps of N=" +
                            std::to_string(ns.front()) + (reference ? " (B0 has no entries: noise)" : ""),
                        kept, ">= " + num(kKeptAtLargestN), kept >= kKeptAtLargestN, reference});
    }
    std::vector<TargetCheck> take() { return std::move(out_); }

private:
    const Results &r_;
    std::vector<TargetCheck> out_;
};

} // namespace

std::vector<TargetCheck> check_targets(const Results &r)
{
    Checker c(r);
    for (std::uint32_t n : r.entries(kPacketRate)) {
        c.ratio(kPacketRate, "F-xdp", "B1", n, true, kXdpRateVsB1);
        c.ratio(kPacketRate, "F-tc", "B1", n, true, kTcRateVsB1);
    }
    // Issue 18: what F's path costs above the floor of that path (B-min: no lookup at all).
    for (std::uint32_t n : r.entries(kPacketRate))
        c.ratio(kPacketRate, "F-tc", "B-min", n, true, kVsFloor);
    for (std::uint32_t n : r.entries(kLiveFramesRate))
        c.ratio(kLiveFramesRate, "F-xdp", "B-min", n, true, kVsFloor);
    for (std::uint32_t n : r.entries(kConnectRate))
        c.ratio(kConnectRate, "F-tc", "B-min", n, true, kVsFloor);
    for (std::uint32_t n : r.entries(kLatencyP50))
        c.ratio(kLatencyP50, "F-tc", "B-min", n, false, kP50VsFloor);
    for (std::uint32_t n : r.entries(kTcpThroughput))
        for (const char *f : kFlatpathConfigs)
            c.ratio(kTcpThroughput, f, "B0", n, true, kTcpVsB0);
    for (std::uint32_t n : r.entries(kLatencyP50))
        for (const char *f : kFlatpathConfigs) {
            c.ratio(kLatencyP50, f, "B0", n, false, kP50VsB0);
            c.ratio(kLatencyP50, f, "B1", n, false, kP50VsB1);
        }
    // Issue 14: masquerade and the host's loopback path at least as fast as iptables'.
    for (const Metric &m : {kEgressThroughput, kEgressConnectRate, kLocalConnectRate})
        for (std::uint32_t n : r.entries(m))
            for (const char *f : kFlatpathConfigs)
                c.ratio(m, f, "B1", n, true, kAtLeastBaseline);
    for (std::uint32_t n : r.entries(kLocalLatencyP50))
        for (const char *f : kFlatpathConfigs)
            c.ratio(kLocalLatencyP50, f, "B1", n, false, kAtLeastBaseline);
    for (const Metric &m : {kPacketRate, kLiveFramesRate, kTcpThroughput, kLatencyP50, kLatencyP99, kConnectRate})
        for (const char *series : {"B0", "B-min", "F-tc", "F-xdp"})
            c.scaling(m, series);
    const auto cost_ns = r.entries(kProgramCost);
    for (const std::string &path : r.series(kProgramCost)) {
        if (const double goal = hit_path_goal(path); goal > 0 && !cost_ns.empty())
            c.figure(kProgramCost, path, cost_ns.back(), goal);
        c.scaling(kProgramCost, path);
    }
    for (std::uint32_t n : r.entries(kUpdateAdd)) {
        c.figure(kUpdateAdd, "flatpath API", n, kUpdateUs);
        c.figure(kUpdateDel, "flatpath API", n, kUpdateUs);
    }
    // Issue 18: an endpoint added at scale (100,000 of everything and a million flows).
    if (const auto ns = r.entries(kEndpointAdd); !ns.empty())
        c.figure(kEndpointAdd, "flatpath API", ns.back(), kUpdateUs);
    for (std::uint32_t n : r.entries(kCniAddAtScale))
        for (const char *p : {" p50", " p99"})
            c.ratio(kCniAddAtScale, std::string("flatpath-cni") + p, std::string("bridge+portmap") + p, n, false,
                    kCniAddVsBridge);
    if (const auto bulk = r.entries(kBulkLoad); !bulk.empty())
        c.figure(kBulkLoad, "flatpath API", bulk.back(), kBulkMs);
    // Issue 18: a flatpath network made by Podman against the networks Podman makes itself,
    // same containers, same run (the packet rate as F-tc's against B1, the rest at least even).
    for (const char *peer : {"P-cni", "P-netavark"}) {
        c.ratio(kPacketRate, "P-flatpath", peer, 1, true, kTcRateVsB1);
        for (const Metric &m : {kTcpThroughput, kConnectRate, kEgressThroughput, kEgressConnectRate, kLocalConnectRate,
                                kNeighbourThroughput})
            c.ratio(m, "P-flatpath", peer, 1, true, kAtLeastBaseline);
        for (const Metric &m : {kLatencyP50, kLocalLatencyP50, kNeighbourLatencyP50})
            c.ratio(m, "P-flatpath", peer, 1, false, kAtLeastBaseline);
    }
    c.ratio(kCniAdd, "flatpath-cni", "bridge+portmap", 1, false, kCniAddVsBridge);
    for (const char *series : {"first start (maps empty)", "restart (entries in place)"})
        c.figure(kDaemonReconcile, series, 1000, kReconcileMs);
    c.at_least(kFloodSurvivors, "F-tc", 1, 2); // issue 12: a flood never removes an established flow
    // Issue 15: flatpath at least as fast as the relay the tools use and the kernel's routing.
    for (const auto &[fast, base] : {std::pair{"tap flatpath", "tap relay"}, std::pair{"tap flatpath", "tap route"},
                                     std::pair{"tun flatpath", "tun route"}, std::pair{"vpn flatpath", "vpn iptables"}}) {
        c.ratio(kTunTapRate, fast, base, 1, true, kAtLeastBaseline);
        c.ratio(kTunTapThroughput, fast, base, 1, true, kAtLeastBaseline);
        c.ratio(kTunTapLatencyP50, fast, base, 1, false, kAtLeastBaseline);
    }
    return c.take();
}

} // namespace fp::bench

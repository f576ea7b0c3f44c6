// One measured figure of one run, and the metrics the bench knows: every result the
// bench writes (CSV, tables, plots, targets) is made from a list of these.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fp::bench {

struct Metric {
    const char *id;    // file names and the CSV's metric column
    const char *title; // tables and plots
    const char *unit;
    bool higher_is_better;
};

inline constexpr Metric kPacketRate{"packet_rate", "UDP 64-byte packet rate reaching the container", "Mpps", true};
inline constexpr Metric kLiveFramesRate{"live_frames_rate", "the uplink's XDP program fed by live-frames test runs (XDP ceiling)", "Mpps", true};
inline constexpr Metric kCpuPerMpkt{"cpu_per_mpkt", "datapath CPU time per million packets delivered", "ms", false};
inline constexpr Metric kTcpThroughput{"tcp_throughput", "TCP throughput (iperf3, one stream)", "Gbit/s", true};
inline constexpr Metric kLatencyP50{"latency_p50", "UDP request/response latency p50 (sockperf, one way)", "us", false};
inline constexpr Metric kLatencyP99{"latency_p99", "UDP request/response latency p99 (sockperf, one way)", "us", false};
inline constexpr Metric kConnectRate{"connect_rate", "new TCP connections per second (connect + reset)", "conn/s", true};
inline constexpr Metric kEgressThroughput{"egress_tcp_throughput", "container -> LAN TCP throughput, masqueraded (iperf3, one stream)", "Gbit/s", true};
inline constexpr Metric kEgressConnectRate{"egress_connect_rate", "container -> LAN new TCP connections per second, masqueraded", "conn/s", true};
inline constexpr Metric kLocalConnectRate{"local_connect_rate", "host -> 127.0.0.1 published port: new TCP connections per second", "conn/s", true};
inline constexpr Metric kLocalLatencyP50{"local_latency_p50", "host -> 127.0.0.1 published port: UDP request/response latency p50", "us", false};
inline constexpr Metric kNeighbourThroughput{"neighbour_tcp_throughput", "container -> container on one network TCP throughput (iperf3, one stream)", "Gbit/s", true};
inline constexpr Metric kNeighbourLatencyP50{"neighbour_latency_p50", "container -> container on one network UDP request/response latency p50", "us", false};
inline constexpr Metric kFloodRunTime{"flood_run_time", "uplink program: its own time per packet in the flood (BPF run statistics)", "ns", false};
inline constexpr Metric kFloodSurvivors{"flood_survivors", "established connections (a stream, an idle one) whole after a SYN flood of new flows", "of 2", true};
inline constexpr Metric kFloodStream{"flood_stream", "the stream's goodput during that flood (it writes 16 MB/s)", "MB/s", true};
inline constexpr Metric kFloodRate{"flood_rate", "new flows per second the flood reached the published port with", "kflows/s", true};
inline constexpr Metric kProgramCost{"program_cost", "program cost per packet (BPF_PROG_TEST_RUN, no-op subtracted)", "ns", false};
inline constexpr Metric kTraceCost{"trace_cost", "program cost per packet by trace state (BPF_PROG_TEST_RUN, no-op subtracted)", "ns", false};
inline constexpr Metric kPolicyCost{"policy_cost", "program cost per packet by policy state (BPF_PROG_TEST_RUN, no-op subtracted)", "ns", false};
inline constexpr Metric kUpdateAdd{"update_add", "one published port added with N in place", "us", false};
inline constexpr Metric kUpdateDel{"update_del", "one published port removed with N in place", "us", false};
inline constexpr Metric kEndpointAdd{"endpoint_add", "one endpoint address added with N endpoints, N published ports, N mark rules and 10 x N flows in place", "us", false};
inline constexpr Metric kEndpointDel{"endpoint_del", "that endpoint address removed", "us", false};
inline constexpr Metric kMapMemory{"map_memory", "kernel memory of the datapath's maps, sized for N endpoints, N published ports, N mark rules and 10 x N flows", "MiB", false};
inline constexpr Metric kBulkLoad{"bulk_load", "N published ports and mark rules loaded at once", "ms", false};
inline constexpr Metric kCniAdd{"cni_add", "CNI ADD of a container with one published port", "ms", false};
inline constexpr Metric kCniAddAtScale{"cni_add_at_scale", "CNI ADD of one more container with N containers attached (each publishing a port)", "ms", false};
inline constexpr Metric kCniDel{"cni_del", "CNI DEL of that container", "ms", false};
inline constexpr Metric kDaemonReconcile{"daemon_reconcile",
                                         "the daemon's reconcile of N running containers, one published port each "
                                         "(scripted runtime API)",
                                         "ms", false};

inline constexpr Metric kTunTapRate{"tuntap_packet_rate",
                                    "tun/tap: 64-byte UDP packets the descriptor holder writes, reaching the container",
                                    "Mpps", true};
inline constexpr Metric kTunTapThroughput{"tuntap_tcp_throughput",
                                          "tun/tap: TCP throughput from the VM / sandbox / VPN client to the container",
                                          "Gbit/s", true};
inline constexpr Metric kTunTapLatencyP50{"tuntap_latency_p50",
                                          "tun/tap: UDP request/response latency p50 (sockperf, one way)", "us", false};

inline constexpr Metric kClusterThroughput{"cluster_tcp_throughput",
                                           "across hosts: TCP throughput container -> container (iperf3, one stream)",
                                           "Gbit/s", true};
inline constexpr Metric kClusterLatencyP50{"cluster_latency_p50",
                                           "across hosts: UDP request/response latency p50 (sockperf, one way)", "us", false};
inline constexpr Metric kClusterConnectRate{"cluster_connect_rate", "across hosts: new TCP connections per second",
                                            "conn/s", true};
inline constexpr Metric kClusterRouteP50{"cluster_route_p50",
                                         "across hosts: a subnet lease written to etcd until its route on a peer, p50",
                                         "ms", false};
inline constexpr Metric kClusterRouteP99{"cluster_route_p99", "the same, p99", "ms", false};
inline constexpr Metric kClusterPacketRate{"cluster_packet_rate",
                                           "across hosts: UDP 64-byte packet rate container -> container", "Mpps", true};
inline constexpr Metric kClusterContainerP50{
    "cluster_container_p50", "across hosts: a new container's CNI ADD until the other host reaches it, p50", "ms", false};
inline constexpr Metric kClusterContainerP99{"cluster_container_p99", "the same, p99", "ms", false};
inline constexpr Metric kClusterProgramTime{
    "cluster_program_time", "across hosts: a flatpath program's own time per packet delivered in the flood (BPF run statistics)",
    "ns", false};

inline const std::vector<Metric> kAllMetrics = {kPacketRate, kLiveFramesRate, kCpuPerMpkt, kTcpThroughput, kLatencyP50,
                                                kLatencyP99, kConnectRate, kEgressThroughput, kEgressConnectRate, kLocalConnectRate, kLocalLatencyP50, kNeighbourThroughput, kNeighbourLatencyP50, kFloodRunTime, kFloodSurvivors, kFloodStream, kFloodRate, kProgramCost, kTraceCost, kPolicyCost, kUpdateAdd, kUpdateDel, kEndpointAdd, kEndpointDel, kMapMemory,
                                                kBulkLoad, kCniAdd, kCniDel, kCniAddAtScale, kDaemonReconcile, kTunTapRate, kTunTapThroughput, kTunTapLatencyP50,
                                                kClusterThroughput, kClusterLatencyP50, kClusterConnectRate, kClusterRouteP50,
                                                kClusterRouteP99, kClusterPacketRate, kClusterContainerP50,
                                                kClusterContainerP99, kClusterProgramTime};

struct Sample {
    std::string metric;    // Metric::id
    std::string series;    // a configuration ("B1"), a program path, a tool
    std::uint32_t entries; // N
    int run;
    double value;
    std::string note; // e.g. "generator-bound"
};

} // namespace fp::bench

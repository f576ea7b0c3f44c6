#include "program_cost.hpp"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <linux/pkt_cls.h>

#include <algorithm>
#include <cerrno>

#include "conntrack.hpp"
#include "error.hpp"
#include "fillers.hpp"
#include "map_set.hpp"
#include "packet.hpp"
#include "policy.hpp"
#include "prog_world.hpp"
#include "programs.hpp"
#include "test_world.hpp"
#include "trace_session.hpp"

namespace fp::bench {

namespace {

using test::Dev;
using test::kC1;
using test::kC2;
using test::kH1;
using test::kH2;
using test::kLan;
using test::kUp0;

// A program that does nothing: the reference whose time is the test-run machinery's.
int noop_program(bpf_prog_type type)
{
    const int verdict = type == BPF_PROG_TYPE_XDP ? XDP_PASS : TC_ACT_OK;
    const bpf_insn insns[] = {
        {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, verdict}, // r0 = verdict
        {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},                        // exit
    };
    const int fd = bpf_prog_load(type, "fp_bench_noop", "GPL", insns, 2, nullptr);
    if (fd < 0)
        throw_errno("load the no-op program", errno);
    return fd;
}

// What the tables hold while a path is timed (the same endpoints in each).
enum class Tables {
    Endpoints,         // no DNAT entries, mark rules or masquerade: what traffic using no feature costs
    PublishedAndMarks, // ports published, mark rules
    Masquerading,      // those, and the containers' subnet masqueraded
};

struct Path {
    std::string name;
    Tables tables;
    int prog_fd;
    int noop_fd;
    bool xdp;
    std::uint32_t ifindex;
    Bytes packet;
    std::uint32_t expect; // the verdict that shows the path is the one meant
};

// One test run; returns the kernel's time for it (ns) and checks the verdict.
std::uint32_t run_once(const Path &p, int fd, std::uint32_t *retval)
{
    const ProgRun r = run_program(fd, p.xdp, p.ifindex, p.packet);
    if (r.error)
        throw_errno("BPF_PROG_TEST_RUN of " + p.name, r.error);
    *retval = r.retval;
    return r.duration_ns;
}

double median(std::vector<std::uint32_t> v)
{
    std::nth_element(v.begin(), v.begin() + static_cast<long>(v.size() / 2), v.end());
    return v[v.size() / 2];
}

// Median program time minus the no-op's, the two interleaved so that both see the same machine.
double measure(const Path &p, int calls)
{
    std::vector<std::uint32_t> prog, noop;
    std::uint32_t retval = 0;
    for (int i = 0; i < calls; ++i) {
        prog.push_back(run_once(p, p.prog_fd, &retval));
        if (retval != p.expect)
            throw Error(p.name + ": verdict " + std::to_string(retval) + ", not " + std::to_string(p.expect) +
                        ": the bench would time the wrong path");
        noop.push_back(run_once(p, p.noop_fd, &retval));
    }
    return median(prog) - median(noop);
}

// E1 (10.0.0.1) on h1 and E2 (10.0.0.2) on h2, the uplink, the host address 10.99.0.1 with
// tcp 8080 published to E1:80, plus filler so that each table holds n entries, and
// kFlowsPerEntry x n tracked flows.
void fill(MapSet &m, std::uint32_t n, const Dev &h1, const Dev &h2, const Dev &up0)
{
    for (const auto &[k, v] : m.endpoints.entries())
        m.endpoints.erase(k);
    for (const auto &[k, v] : m.dnat.entries())
        m.dnat.erase(k);
    for (const auto &[k, v] : m.backends.entries())
        m.backends.erase(k);
    for (const auto &[k, v] : m.marks.entries())
        m.marks.erase(k);
    Conntrack(m).flush();
    std::vector<IpAddr> e2_addrs = {IpAddr::parse("10.0.0.2")};
    for (std::uint32_t i = 2; i < n; ++i)
        e2_addrs.push_back(filler_addr(i)); // filler: the endpoint table holds n addresses
    test::register_endpoint(m, h1, 1, FP_EP_VETH, {IpAddr::parse("10.0.0.1")});
    test::register_endpoint(m, h2, 2, FP_EP_VETH, e2_addrs);
    test::register_uplink(m, up0);
    m.local_addrs.upsert(fp_local_addr_key{IpAddr::parse("10.99.0.1").raw()}, 1);
    const fp_addr host = IpAddr::parse("10.99.0.1").raw();
    m.dnat.upsert(fp_dnat_key{host, htons(8080), 6, 0}, fp_dnat_backend{IpAddr::parse("10.0.0.1").raw(), htons(80), {}});
    m.backends.upsert(fp_backend_key{IpAddr::parse("10.0.0.1").raw(), htons(80), 6, 0}, 1);
    m.backends.upsert(fp_backend_key{IpAddr::parse("10.0.0.2").raw(), htons(80), 6, 0}, n);
    m.marks.upsert(fp_mark_key{IpAddr::parse("10.0.0.1").raw(), htons(80), 6, FP_MARK_SOURCE}, fp_mark{0x2, 0xff});
    for (std::uint32_t i = 1; i < n; ++i) {
        m.dnat.upsert(filler_dnat_key(i), fp_dnat_backend{IpAddr::parse("10.0.0.2").raw(), htons(80), {}});
        m.marks.upsert(fp_mark_key{filler_addr(i).raw(), htons(80), 6, FP_MARK_SOURCE}, fp_mark{0x3, 0xff});
    }
    m.masq.upsert(fp_masq_key{96 + 24, IpAddr::parse("10.0.0.0").raw()}, fp_masq_rule{1, 0});
    m.config.upsert(0, fp_config{n, 0, 0, n});
    fill_flows(m, n * kFlowsPerEntry);
}

fp_config config_for(Tables t, const fp_config &full)
{
    if (t == Tables::Endpoints)
        return fp_config{};
    fp_config c = full;
    if (t == Tables::Masquerading) {
        c.masq_rules = 1;
        c.masq_port_min = FP_MASQ_PORT_MIN_DEFAULT;
        c.masq_port_max = FP_MASQ_PORT_MAX_DEFAULT;
    }
    return c;
}

Packet packet(const MacAddr &src_mac, const MacAddr &dst_mac, const char *src, std::uint16_t sport, const char *dst,
              std::uint16_t dport, std::uint8_t proto, std::uint8_t flags = 0x10)
{
    Packet p;
    p.src_mac = src_mac;
    p.dst_mac = dst_mac;
    p.l3 = L3::IPv4;
    p.src = IpAddr::parse(src);
    p.dst = IpAddr::parse(dst);
    p.sport = sport;
    p.dport = dport;
    p.proto = proto;
    p.tcp_flags = flags;
    p.payload = 18; // a 64-byte frame (without FCS) for UDP
    return p;
}

// The masqueraded flow path times, assured as a busy one is: the container's datagram
// makes the flow, the LAN client's answer to the host port it got comes back, and the
// container's next datagram assures it.
void assure_masquerade(MapSet &maps, const fp_config &full, const Path &path, int xdp, const Dev &up0)
{
    maps.config.upsert(0, config_for(path.tables, full));
    std::uint32_t retval = 0;
    run_once(path, path.prog_fd, &retval);
    const fp_ct_key key{IpAddr::parse("10.0.0.1").raw(), IpAddr::parse("10.99.0.5").raw(), htons(40001), htons(53),
                        17, FP_CT_ORIGINAL, {}};
    const auto flow = maps.ct_new.lookup(key);
    if (!flow)
        throw Error("the masqueraded flow the bench times was not made: " + path.name + " gave verdict " +
                    std::to_string(retval));
    const Path answer{"", Tables::Masquerading, xdp, 0, true, up0.ifindex,
                      packet(kLan, kUp0, "10.99.0.5", 53, "10.99.0.1", ntohs(flow->sport), 17).bytes(), XDP_REDIRECT};
    run_once(answer, xdp, &retval);
    run_once(path, path.prog_fd, &retval);
}

} // namespace

std::vector<Sample> measure_program_cost(const CostOptions &opts, const std::function<void(const std::string &)> &progress)
{
    const Dev h1 = test::make_veth("h1", kH1, "p1", kC1), h2 = test::make_veth("h2", kH2, "p2", kC2);
    const Dev up0 = test::make_veth("up0", kUp0, "lan0", kLan);
    // Replies and masqueraded packets are routed to the LAN's client as a host routes them.
    test::add_lan(up0);
    // Tables as large as the largest N needs, for every N: what changes between columns is
    // what is in them, not their size.
    const LoadedPrograms progs =
        LoadedPrograms::load("", true, filler_table_sizes(*std::max_element(opts.entries.begin(), opts.entries.end())));
    MapSet maps = MapSet::from_fds([&](const char *name) { return progs.map_fd(name); });
    const int noop_xdp = noop_program(BPF_PROG_TYPE_XDP), noop_tc = noop_program(BPF_PROG_TYPE_SCHED_CLS);
    const int xdp = progs.prog_fd(Program::XdpUplink), tce = progs.prog_fd(Program::TcEndpoint);

    const std::vector<Path> paths = {
        {"xdp_uplink forward, no DNAT or marks", Tables::Endpoints, xdp, noop_xdp, true, up0.ifindex,
         packet(kLan, kUp0, "10.99.0.5", 40000, "10.0.0.1", 5001, 17).bytes(), XDP_REDIRECT},
        {"from_container forward, no DNAT or marks", Tables::Endpoints, tce, noop_tc, false, h1.ifindex,
         packet(kC1, kH1, "10.0.0.1", 40000, "10.0.0.2", 5001, 17).bytes(), TC_ACT_REDIRECT},
        {"xdp_uplink forward", Tables::PublishedAndMarks, xdp, noop_xdp, true, up0.ifindex, packet(kLan, kUp0, "10.99.0.5", 40000, "10.0.0.1", 5001, 17).bytes(),
         XDP_REDIRECT},
        {"xdp_uplink dnat (established)", Tables::PublishedAndMarks, xdp, noop_xdp, true, up0.ifindex,
         packet(kLan, kUp0, "10.99.0.5", 40000, "10.99.0.1", 8080, 6).bytes(), XDP_REDIRECT},
        {"xdp_uplink miss", Tables::PublishedAndMarks, xdp, noop_xdp, true, up0.ifindex, packet(kLan, kUp0, "10.99.0.5", 40000, "10.99.0.1", 9999, 6).bytes(),
         XDP_PASS},
        {"from_container forward", Tables::PublishedAndMarks, tce, noop_tc, false, h1.ifindex, packet(kC1, kH1, "10.0.0.1", 40000, "10.0.0.2", 5001, 17).bytes(),
         TC_ACT_REDIRECT},
        {"from_container dnat reply + mark", Tables::PublishedAndMarks, tce, noop_tc, false, h1.ifindex,
         packet(kC1, kH1, "10.0.0.1", 80, "10.99.0.5", 40000, 6).bytes(), TC_ACT_REDIRECT},
        {"from_container masq (established)", Tables::Masquerading, tce, noop_tc, false, h1.ifindex,
         packet(kC1, kH1, "10.0.0.1", 40001, "10.99.0.5", 53, 17).bytes(), TC_ACT_REDIRECT},
        {"from_container miss", Tables::PublishedAndMarks, tce, noop_tc, false, h1.ifindex, packet(kC1, kH1, "10.0.0.1", 40000, "8.8.8.8", 53, 17).bytes(),
         TC_ACT_OK},
    };
    const auto masq = std::find_if(paths.begin(), paths.end(), [](const Path &p) { return p.tables == Tables::Masquerading; });
    std::vector<Sample> out;
    for (int run = 1; run <= opts.runs; ++run) {
        for (std::uint32_t n : opts.entries) {
            fill(maps, n, h1, h2, up0);
            // The DNAT paths time an established (assured) flow, as a busy connection is:
            // the client's packet makes the flow, the backend's SYN-ACK answers it, and the
            // client's ACK of that completes the handshake.
            std::uint32_t retval = 0;
            run_once(paths[3], xdp, &retval);
            Packet synack = packet(kC1, kH1, "10.0.0.1", 80, "10.99.0.5", 40000, 6, 0x12);
            synack.tcp_seq = packet(kLan, kUp0, "10.99.0.5", 40000, "10.99.0.1", 8080, 6).tcp_ack - 1;
            const Path backend_answers{"", Tables::PublishedAndMarks, tce, noop_tc, false, h1.ifindex, synack.bytes(),
                                       TC_ACT_OK};
            run_once(backend_answers, tce, &retval);
            run_once(paths[3], xdp, &retval);
            const fp_config full = *maps.config.lookup(0);
            assure_masquerade(maps, full, *masq, xdp, up0);
            maps.config.upsert(0, full);
            if (maps.ct.entries().size() != 4 + 2 * std::size_t{n} * kFlowsPerEntry)
                throw Error("the DNAT and masquerade flows the bench times are not assured: it would time the wrong paths");
            for (const Path &p : paths) {
                maps.config.upsert(0, config_for(p.tables, full));
                progress("program cost: run " + std::to_string(run) + "/" + std::to_string(opts.runs) + ", N=" +
                         std::to_string(n) + ", " + p.name);
                out.push_back({kProgramCost.id, p.name, n, run, measure(p, opts.calls), ""});
            }
        }
    }
    return out;
}

std::vector<Sample> measure_trace_cost(const CostOptions &opts, const std::function<void(const std::string &)> &progress)
{
    const Dev h1 = test::make_veth("h1", kH1, "p1", kC1), h2 = test::make_veth("h2", kH2, "p2", kC2);
    const Dev up0 = test::make_veth("up0", kUp0, "lan0", kLan);
    const int noop_xdp = noop_program(BPF_PROG_TYPE_XDP), noop_tc = noop_program(BPF_PROG_TYPE_SCHED_CLS);
    const LoadedPrograms traced = LoadedPrograms::load(""), untraced = LoadedPrograms::load("", false);
    MapSet maps = MapSet::from_fds([&](const char *name) { return traced.map_fd(name); });
    MapSet untraced_maps = MapSet::from_fds([&](const char *name) { return untraced.map_fd(name); });
    const auto paths_of = [&](const LoadedPrograms &p) {
        const int xdp = p.prog_fd(Program::XdpUplink), tce = p.prog_fd(Program::TcEndpoint);
        return std::vector<Path>{
            {"xdp_uplink forward", Tables::PublishedAndMarks, xdp, noop_xdp, true, up0.ifindex,
             packet(kLan, kUp0, "10.99.0.5", 40000, "10.0.0.1", 5001, 17).bytes(), XDP_REDIRECT},
            {"from_container forward", Tables::PublishedAndMarks, tce, noop_tc, false, h1.ifindex,
             packet(kC1, kH1, "10.0.0.1", 40000, "10.0.0.2", 5001, 17).bytes(), TC_ACT_REDIRECT},
            {"xdp_uplink dnat", Tables::PublishedAndMarks, xdp, noop_xdp, true, up0.ifindex,
             packet(kLan, kUp0, "10.99.0.5", 40000, "10.99.0.1", 8080, 6).bytes(), XDP_REDIRECT},
        };
    };
    TraceFilter nothing;
    nothing.kinds = ~0u;
    nothing.addr = IpAddr::parse("192.0.2.99"); // TEST-NET-1: no packet of the bench has it
    TraceFilter everything;
    everything.kinds = ~0u;

    std::vector<Sample> out;
    for (int run = 1; run <= opts.runs; ++run) {
        fill(maps, 1, h1, h2, up0);
        fill(untraced_maps, 1, h1, h2, up0);
        const auto time_all = [&](const std::vector<Path> &paths, const std::string &state, TraceSession *session) {
            for (const Path &p : paths) {
                progress("trace cost: run " + std::to_string(run) + "/" + std::to_string(opts.runs) + ", " + p.name +
                         ": " + state);
                out.push_back({kTraceCost.id, p.name + ": " + state, 1, run, measure(p, opts.calls), ""});
                if (session) // the ring emptied, so that every event finds room
                    session->poll(std::chrono::milliseconds(0), [](const fp_trace_event &) { return true; });
            }
        };
        time_all(paths_of(untraced), "without trace code", nullptr);
        time_all(paths_of(traced), "trace off", nullptr);
        {
            TraceSession s(maps, MapFd::dup_of(traced.map_fd(FP_MAP_TRACE_RING)), nothing);
            time_all(paths_of(traced), "trace on, filter matching nothing", &s);
        }
        {
            TraceSession s(maps, MapFd::dup_of(traced.map_fd(FP_MAP_TRACE_RING)), everything);
            time_all(paths_of(traced), "trace on, every packet an event", &s);
        }
    }
    return out;
}

std::vector<Sample> measure_policy_cost(const CostOptions &opts, const std::function<void(const std::string &)> &progress)
{
    const Dev h1 = test::make_veth("h1", kH1, "p1", kC1), h2 = test::make_veth("h2", kH2, "p2", kC2);
    const Dev up0 = test::make_veth("up0", kUp0, "lan0", kLan);
    const int noop_xdp = noop_program(BPF_PROG_TYPE_XDP), noop_tc = noop_program(BPF_PROG_TYPE_SCHED_CLS);
    const LoadedPrograms progs = LoadedPrograms::load("");
    MapSet maps = MapSet::from_fds([&](const char *name) { return progs.map_fd(name); });
    const int xdp = progs.prog_fd(Program::XdpUplink), tce = progs.prog_fd(Program::TcEndpoint);
    // E1's traffic: from the LAN to it (its ingress, checked where XDP delivers), and from it
    // to E2 (its egress, checked at its hook's start).
    const std::vector<Path> paths = {
        {"xdp_uplink forward", Tables::PublishedAndMarks, xdp, noop_xdp, true, up0.ifindex,
         packet(kLan, kUp0, "10.99.0.5", 40000, "10.0.0.1", 5001, 17).bytes(), XDP_REDIRECT},
        {"from_container forward", Tables::PublishedAndMarks, tce, noop_tc, false, h1.ifindex,
         packet(kC1, kH1, "10.0.0.1", 40000, "10.0.0.2", 5001, 17).bytes(), TC_ACT_REDIRECT},
    };
    // A firewall of the usual shape: deny by default, a few allow rules.
    const auto firewall = [] {
        fp_policy p{};
        p.generation = 1;
        p.defaults[FP_POLICY_IN] = p.defaults[FP_POLICY_OUT] = FP_POLICY_DENY;
        const std::vector<PolicyRule> rules = {
            parse_policy_item("10.99.0.0/24:5001/udp", FP_POLICY_IN, FP_POLICY_ALLOW),
            parse_policy_item("*:22", FP_POLICY_IN, FP_POLICY_DENY),
            parse_policy_item("10.0.0.0/24:5001/udp", FP_POLICY_OUT, FP_POLICY_ALLOW),
            parse_policy_item("10.0.0.0/8:443", FP_POLICY_OUT, FP_POLICY_ALLOW)};
        for (const PolicyRule &r : rules)
            p.rules[p.count++] = r.raw();
        return p;
    }();

    std::vector<Sample> out;
    for (int run = 1; run <= opts.runs; ++run) {
        fill(maps, 1, h1, h2, up0);
        const fp_config base = *maps.config.lookup(0);
        const auto time_all = [&](const std::string &state) {
            for (const Path &p : paths) {
                progress("policy cost: run " + std::to_string(run) + "/" + std::to_string(opts.runs) + ", " + p.name +
                         ": " + state);
                out.push_back({kPolicyCost.id, p.name + ": " + state, 1, run, measure(p, opts.calls), ""});
            }
        };
        time_all("no policy");
        fp_config with = base;
        with.policies = 1;
        maps.config.upsert(0, with);
        maps.policy.upsert(up0.ifindex + 1000, firewall); // no device of the bench's
        time_all("another endpoint's policy");
        maps.policy.erase(up0.ifindex + 1000);
        maps.policy.upsert(h1.ifindex, firewall);
        for (const Path &p : paths) { // each path's flow decided, as a busy flow's is
            std::uint32_t retval = 0;
            run_once(p, p.prog_fd, &retval);
        }
        if (maps.policy_flows.entries().size() != paths.size())
            throw Error("the policy did not allow the flows the bench times: it would time the wrong path");
        time_all("its endpoint's policy, established flow");
        maps.policy.erase(h1.ifindex);
        maps.config.upsert(0, base);
        for (const auto &[k, v] : maps.policy_flows.entries())
            maps.policy_flows.erase(k);
    }
    return out;
}

} // namespace fp::bench

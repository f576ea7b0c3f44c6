// Trace events from the production programs, read by the real consumer (TraceSession):
// nothing is emitted while nobody traces; a drop comes with its reason, hook, device and
// addresses; a published port's flow is reported when created, when closed and when it
// expires, with its translation; -v shows a forwarded packet before and after
// translation; the filters keep what they exclude off the ring (in the kernel); a full
// ring loses events, never packets, and says how many.
//
// Map setup: the world of prog_fixture.hpp (E1 10.0.0.1 / fd00::1 on h1, E2 on h2, uplink
// up0 with the host's 10.99.0.1 and the LAN client .5 behind it), and tcp 10.99.0.1:8080
// published to E1:80.
#include <linux/pkt_cls.h>
#include <arpa/inet.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vector>

#include "conntrack.hpp"
#include "prog_fixture.hpp"
#include "test_world.hpp"
#include "trace_session.hpp"

namespace fp::test {
namespace {

constexpr std::uint8_t kTcp = 6, kUdp = 17, kSyn = 0x02, kAck = 0x10, kRst = 0x04;
constexpr std::uint32_t kDefaultKinds =
    1u << FP_TRACE_DROP | 1u << FP_TRACE_FLOW_NEW | 1u << FP_TRACE_FLOW_CLOSED | 1u << FP_TRACE_FLOW_EXPIRED;
constexpr std::uint32_t kAllKinds = kDefaultKinds | 1u << FP_TRACE_TO_STACK | 1u << FP_TRACE_FORWARD;

const IpAddr kHost4 = IpAddr::parse("10.99.0.1");
const IpAddr kE1 = IpAddr::parse("10.0.0.1");
const IpAddr kE2 = IpAddr::parse("10.0.0.2");
const IpAddr kClient = IpAddr::parse("10.99.0.5");

// E1's packet from an address that is not its own: dropped as spoofed.
Packet spoofed()
{
    Packet p = from_e1();
    p.src = IpAddr::parse("10.0.0.77");
    p.proto = kUdp;
    return p;
}

Packet lan_to_published(std::uint8_t flags)
{
    Packet p = from_lan();
    p.dst = kHost4;
    p.dport = 8080;
    p.proto = kTcp;
    p.tcp_flags = flags;
    return p;
}

IpAddr src_of(const fp_flow_tuple &t)
{
    return IpAddr::from_raw(t.saddr);
}

IpAddr dst_of(const fp_flow_tuple &t)
{
    return IpAddr::from_raw(t.daddr);
}

class TraceTest : public ProgFixture {
protected:
    void SetUp() override
    {
        ProgFixture::SetUp();
        if (HasFatalFailure())
            return;
        add_two_endpoints_and_uplink();
        add_host_addresses();
        maps->dnat.upsert(fp_dnat_key{kHost4.raw(), htons(8080), kTcp, 0}, fp_dnat_backend{kE1.raw(), htons(80), {}});
        maps->backends.upsert(fp_backend_key{kE1.raw(), htons(80), kTcp, 0}, 1);
        maps->config.upsert(0, fp_config{1, 0, 0, 0});
    }

    std::unique_ptr<TraceSession> trace(TraceFilter f)
    {
        return std::make_unique<TraceSession>(*maps, MapFd::dup_of(progs->map_fd(FP_MAP_TRACE_RING)), f);
    }

    static TraceFilter kinds(std::uint32_t k)
    {
        TraceFilter f;
        f.kinds = k;
        return f;
    }

    // Every event on the ring now.
    static std::vector<fp_trace_event> drain(TraceSession &s)
    {
        std::vector<fp_trace_event> got;
        s.poll(std::chrono::milliseconds(0), [&](const fp_trace_event &e) {
            got.push_back(e);
            return true;
        });
        return got;
    }
};

// With no trace running the programs emit nothing (the spoofed packet is still dropped
// and counted): a trace started afterwards finds the ring empty.
TEST_F(TraceTest, NothingIsEmittedWhileNobodyTraces)
{
    EXPECT_EQ(run_tc(Program::TcEndpoint, h1, spoofed().bytes()).retval, static_cast<std::uint32_t>(TC_ACT_SHOT));
    EXPECT_EQ(reason_count(FP_HOOK_TC_ENDPOINT, FP_DROP_SPOOF_IP), 1u);
    auto s = trace(kinds(kAllKinds));
    EXPECT_TRUE(drain(*s).empty());
}

// A dropped packet's event says why, where (hook and device) and what (the addresses and
// ports as sent); the drop itself is unchanged by tracing.
TEST_F(TraceTest, ADropIsTracedWithItsReasonHookAndAddresses)
{
    auto s = trace(kinds(kDefaultKinds));
    const Packet p = spoofed();
    EXPECT_EQ(run_tc(Program::TcEndpoint, h1, p.bytes()).retval, static_cast<std::uint32_t>(TC_ACT_SHOT));
    const auto events = drain(*s);
    ASSERT_EQ(events.size(), 1u);
    const fp_trace_event &e = events[0];
    EXPECT_EQ(e.kind, FP_TRACE_DROP);
    EXPECT_EQ(e.reason, FP_DROP_SPOOF_IP);
    EXPECT_EQ(e.hook, FP_HOOK_TC_ENDPOINT);
    EXPECT_EQ(e.ifindex, h1.ifindex);
    EXPECT_EQ(e.action, static_cast<std::uint32_t>(TC_ACT_SHOT));
    EXPECT_EQ(src_of(e.before), p.src);
    EXPECT_EQ(dst_of(e.before), p.dst);
    EXPECT_EQ(ntohs(e.before.sport), p.sport);
    EXPECT_EQ(ntohs(e.before.dport), p.dport);
    EXPECT_EQ(e.before.proto, kUdp);
    EXPECT_EQ(e.before.l3, 4);
    EXPECT_NE(e.time_ns, 0u);
}

// A client's SYN to a published port (under XDP) creates a flow: its event has the flow
// as sent and as translated to the backend. The backend's reset closes it: one closed
// event, with the same flow, from the endpoint's hook.
TEST_F(TraceTest, APublishedPortsFlowIsTracedWhenCreatedAndClosed)
{
    auto s = trace(kinds(kDefaultKinds));
    ASSERT_EQ(run_xdp(up0, lan_to_published(kSyn).bytes()).retval, static_cast<std::uint32_t>(XDP_REDIRECT));
    auto events = drain(*s);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].kind, FP_TRACE_FLOW_NEW);
    EXPECT_EQ(events[0].ct_kind, FP_CT_KIND_DNAT);
    EXPECT_EQ(events[0].hook, FP_HOOK_XDP_UPLINK);
    EXPECT_EQ(src_of(events[0].before), kClient);
    EXPECT_EQ(dst_of(events[0].before), kHost4);
    EXPECT_EQ(ntohs(events[0].before.dport), 8080);
    EXPECT_EQ(src_of(events[0].after), kClient);
    EXPECT_EQ(dst_of(events[0].after), kE1);
    EXPECT_EQ(ntohs(events[0].after.dport), 80);

    const Packet rst = sent_by(kC1, kH1, kE1, 80, kClient, 40000, kTcp, kRst | kAck);
    run_tc(Program::TcEndpoint, h1, rst.bytes());
    events = drain(*s);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].kind, FP_TRACE_FLOW_CLOSED);
    EXPECT_EQ(events[0].hook, FP_HOOK_TC_ENDPOINT);
    EXPECT_EQ(dst_of(events[0].before), kHost4);
    EXPECT_EQ(dst_of(events[0].after), kE1);

    // A second reset (the client's) closes nothing more.
    run_xdp(up0, lan_to_published(kRst).bytes());
    EXPECT_TRUE(drain(*s).empty());
}

// A flow whose deadline passes while a trace runs is reported once, found in the
// conntrack tables (no packet marks a timeout) within a second or so, with its translation;
// a flow that is still alive is not.
TEST_F(TraceTest, AFlowThatExpiresIsReportedOnce)
{
    auto s = trace(kinds(1u << FP_TRACE_FLOW_EXPIRED));
    ASSERT_EQ(run_xdp(up0, lan_to_published(kSyn).bytes()).retval, static_cast<std::uint32_t>(XDP_REDIRECT));
    Packet other = lan_to_published(kSyn);
    other.sport = 40001;
    ASSERT_EQ(run_xdp(up0, other.bytes()).retval, static_cast<std::uint32_t>(XDP_REDIRECT));
    // The first flow's deadline, both entries, is now: as if its 60 s had passed.
    const std::uint64_t now = monotonic_ns();
    for (const auto &[key, entry] : maps->ct_new.entries())
        if ((key.dir == FP_CT_ORIGINAL && ntohs(key.sport) == 40000) || (key.dir == FP_CT_REPLY && ntohs(key.dport) == 40000)) {
            fp_ct_entry e = entry;
            e.expires_ns = now;
            maps->ct_new.upsert(key, e);
        }
    std::vector<fp_trace_event> got;
    const auto collect = [&](const fp_trace_event &e) {
        got.push_back(e);
        return true;
    };
    for (int i = 0; i < 15 && got.empty(); ++i)
        s->poll(std::chrono::milliseconds(100), collect);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].kind, FP_TRACE_FLOW_EXPIRED);
    EXPECT_EQ(got[0].ct_kind, FP_CT_KIND_DNAT);
    EXPECT_EQ(ntohs(got[0].before.sport), 40000);
    EXPECT_EQ(dst_of(got[0].before), kHost4);
    EXPECT_EQ(dst_of(got[0].after), kE1);
    EXPECT_EQ(ntohs(got[0].after.dport), 80);
    EXPECT_EQ(got[0].time_ns, now);
    for (int i = 0; i < 12; ++i)
        s->poll(std::chrono::milliseconds(100), collect);
    EXPECT_EQ(got.size(), 1u) << "reported once";
}

// -v: a forwarded packet's event shows it as received and as it left (destination
// translated), with the action the program returned.
TEST_F(TraceTest, VerboseShowsAForwardedPacketBeforeAndAfterTranslation)
{
    auto s = trace(kinds(kAllKinds));
    run_tc(Program::TcUplink, up0, lan_to_published(kSyn).bytes());
    const auto events = drain(*s);
    ASSERT_EQ(events.size(), 2u) << "the flow's event and the packet's";
    const fp_trace_event &e = events[1];
    EXPECT_EQ(e.kind, FP_TRACE_FORWARD);
    EXPECT_EQ(e.action, static_cast<std::uint32_t>(TC_ACT_REDIRECT));
    EXPECT_EQ(dst_of(e.before), kHost4);
    EXPECT_EQ(ntohs(e.before.dport), 8080);
    EXPECT_EQ(dst_of(e.after), kE1);
    EXPECT_EQ(ntohs(e.after.dport), 80);
    EXPECT_EQ(src_of(e.after), kClient);
}

// Each filter keeps a drop that it excludes off the ring, and lets through one it
// matches: address (before or after translation), port, protocol, device (the hook's, or
// an endpoint's address), reason.
TEST_F(TraceTest, FiltersAreAppliedInTheKernel)
{
    struct Row {
        const char *what;
        TraceFilter filter;
        bool emitted;
    };
    const auto with = [](auto set) {
        TraceFilter f = kinds(kDefaultKinds);
        set(f);
        return f;
    };
    const std::vector<Row> rows = {
        {"another address", with([](TraceFilter &f) { f.addr = IpAddr::parse("10.0.0.9"); }), false},
        {"the destination", with([](TraceFilter &f) { f.addr = kE2; }), true},
        {"another port", with([](TraceFilter &f) { f.port = 443; }), false},
        {"the destination port", with([](TraceFilter &f) { f.port = 5001; }), true},
        {"another protocol", with([](TraceFilter &f) { f.proto = kTcp; }), false},
        {"its protocol", with([](TraceFilter &f) { f.proto = kUdp; }), true},
        {"another device", with([](TraceFilter &f) { f.ifindex = up0.ifindex; }), false},
        {"the device it came in on", with([](TraceFilter &f) { f.ifindex = h1.ifindex; }), true},
        {"the device of its destination", with([](TraceFilter &f) { f.ifindex = h2.ifindex; }), true},
        {"another reason", with([](TraceFilter &f) { f.reason = FP_DROP_SPOOF_MAC; }), false},
        {"its reason", with([](TraceFilter &f) { f.reason = FP_DROP_SPOOF_IP; }), true},
        {"flows only", kinds(1u << FP_TRACE_FLOW_NEW), false},
    };
    for (const Row &r : rows) {
        SCOPED_TRACE(r.what);
        auto s = trace(r.filter);
        run_tc(Program::TcEndpoint, h1, spoofed().bytes());
        EXPECT_EQ(drain(*s).size(), r.emitted ? 1u : 0u);
    }
}

// More events than the ring holds: the packets are all handled as ever, the events that
// found no room are counted, and the trace reports them.
TEST_F(TraceTest, AFullRingLosesEventsNotPackets)
{
    auto s = trace(kinds(kDefaultKinds));
    const std::size_t room = FP_TRACE_RING_BYTES / sizeof(fp_trace_event);
    const Bytes in = spoofed().bytes();
    std::size_t dropped = 0;
    for (std::size_t i = 0; i < room + 100; ++i)
        dropped += run_tc(Program::TcEndpoint, h1, in).retval == static_cast<std::uint32_t>(TC_ACT_SHOT);
    EXPECT_EQ(dropped, room + 100);
    EXPECT_GE(s->lost(), 100u);
    const auto events = drain(*s);
    EXPECT_EQ(events.size() + s->lost(), room + 100);
}

// A second trace is refused while the first runs; the first's end turns events off. A
// filter whose process is gone (a killed trace) is abandoned: the daemon's round turns
// it off; one of another PID namespace (whose pids this process cannot judge) is not.
TEST_F(TraceTest, OneTraceAtATimeAndAnAbandonedOneIsTurnedOff)
{
    auto s = trace(kinds(kDefaultKinds));
    const fp_trace_filter mine = *maps->trace_filter.lookup(0);
    const auto install = [&](std::uint32_t pid, std::uint32_t pidns) {
        fp_trace_filter f = mine;
        f.pid = pid;
        f.pidns = pidns;
        maps->trace_filter.upsert(0, f);
    };
    // Another live process's trace (the parent's pid stands for it).
    install(static_cast<std::uint32_t>(::getppid()), mine.pidns);
    EXPECT_THROW(trace(kinds(kDefaultKinds)), Error);
    EXPECT_FALSE(clear_abandoned_trace(*maps));
    install(static_cast<std::uint32_t>(::getppid()), mine.pidns + 1);
    EXPECT_FALSE(clear_abandoned_trace(*maps)) << "another namespace's trace";
    const pid_t child = ::fork();
    if (child == 0)
        ::_exit(0);
    ::waitpid(child, nullptr, 0);
    install(static_cast<std::uint32_t>(child), mine.pidns);
    EXPECT_TRUE(clear_abandoned_trace(*maps));
    EXPECT_EQ(maps->trace_filter.lookup(0)->kinds, 0u);

    maps->trace_filter.upsert(0, mine);
    s.reset();
    EXPECT_EQ(maps->trace_filter.lookup(0)->kinds, 0u);
}

} // namespace
} // namespace fp::test

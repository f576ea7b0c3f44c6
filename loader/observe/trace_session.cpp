#include "trace_session.hpp"

#include <arpa/inet.h>
#include <bpf/libbpf.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "conntrack.hpp"
#include "error.hpp"
#include "map_fd.hpp"

namespace fp {

namespace {

constexpr std::uint32_t kExpiredScanEveryNs = 1000000000; // the tables are read once a second at most
constexpr int kStopped = -ECANCELED; // what the ring callback returns to stop consuming

bool process_alive(std::uint32_t pid)
{
    return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

std::uint32_t own_pid_namespace()
{
    struct stat st{};
    if (::stat("/proc/self/ns/pid", &st) != 0)
        return 0;
    return static_cast<std::uint32_t>(st.st_ino);
}

fp_flow_tuple tuple_of(const fp_addr &saddr, const fp_addr &daddr, __be16 sport, __be16 dport, std::uint8_t proto)
{
    fp_flow_tuple t{};
    t.saddr = saddr;
    t.daddr = daddr;
    t.sport = sport;
    t.dport = dport;
    t.proto = proto;
    t.l3 = IpAddr::from_raw(saddr).is_v4() ? 4 : 6;
    return t;
}

// The kernel's filter (bpf/lib/trace.h), for the events found in user space: each test
// passes when either tuple passes it.
bool wanted(const fp_trace_event &e, const TraceFilter &f, MapSet &maps)
{
    const auto either = [&](const auto &test) { return test(e.before) || test(e.after); };
    const auto on_dev = [&](const fp_addr &a) {
        const auto ep = maps.endpoints.lookup(fp_endpoint_key{a});
        return ep && ep->ifindex == f.ifindex;
    };
    if (f.proto && !either([&](const fp_flow_tuple &t) { return t.proto == f.proto; }))
        return false;
    if (f.port && !either([&](const fp_flow_tuple &t) { return ntohs(t.sport) == f.port || ntohs(t.dport) == f.port; }))
        return false;
    if (f.addr && !either([&](const fp_flow_tuple &t) {
            return IpAddr::from_raw(t.saddr) == *f.addr || IpAddr::from_raw(t.daddr) == *f.addr;
        }))
        return false;
    return !f.ifindex || either([&](const fp_flow_tuple &t) { return on_dev(t.saddr) || on_dev(t.daddr); });
}

} // namespace

fp_trace_filter TraceFilter::to_abi() const
{
    fp_trace_filter f{};
    f.kinds = kinds;
    f.ifindex = ifindex;
    if (addr) {
        f.addr = addr->raw();
        f.flags |= FP_TRACE_MATCH_ADDR;
    }
    f.port = htons(port);
    f.proto = proto;
    f.reason = reason;
    f.pid = static_cast<std::uint32_t>(::getpid());
    f.pidns = own_pid_namespace();
    return f;
}

Tracer tracer_of(const fp_trace_filter &installed)
{
    if (installed.kinds == 0)
        return Tracer::None;
    if (installed.pidns != own_pid_namespace())
        return Tracer::Live;
    if (installed.pid == static_cast<std::uint32_t>(::getpid()))
        return Tracer::Self;
    return process_alive(installed.pid) ? Tracer::Live : Tracer::Gone;
}

bool clear_abandoned_trace(MapSet &maps)
{
    const auto installed = maps.trace_filter.lookup(0);
    if (!installed || tracer_of(*installed) != Tracer::Gone)
        return false;
    maps.trace_filter.upsert(0, fp_trace_filter{});
    return true;
}

// libbpf's reader of the ring, with the callback of the poll in progress.
struct TraceSession::Ring {
    MapFd fd;
    ring_buffer *rb = nullptr;
    const std::function<bool(const fp_trace_event &)> *on_event = nullptr;

    ~Ring() { ring_buffer__free(rb); }

    static int sample(void *ctx, void *data, std::size_t size)
    {
        auto *self = static_cast<Ring *>(ctx);
        fp_trace_event e{};
        std::memcpy(&e, data, std::min(size, sizeof e));
        return (*self->on_event)(e) ? 0 : kStopped;
    }
};

MapFd trace_ring(const PinRoot &root)
{
    return MapFd::open_pinned(root.map_path(FP_MAP_TRACE_RING));
}

TraceSession::TraceSession(MapSet &maps, MapFd ring, TraceFilter filter)
    : maps_(maps), filter_(std::move(filter)), ring_(std::make_unique<Ring>())
{
    if (filter_.kinds == 0)
        throw Error("a trace needs at least one kind of event");
    const auto installed = maps_.trace_filter.lookup(0).value_or(fp_trace_filter{});
    if (tracer_of(installed) == Tracer::Live)
        throw Error("another flatpath trace (pid " + std::to_string(installed.pid) + ") is running: one trace at a time");
    ring_->fd = std::move(ring);
    ring_->rb = ring_buffer__new(ring_->fd.get(), &Ring::sample, ring_.get(), nullptr);
    if (!ring_->rb)
        throw_errno("read the trace ring", errno);
    // Events a trace that ended left unread would show as this one's.
    const std::function<bool(const fp_trace_event &)> discard = [](const fp_trace_event &) { return true; };
    ring_->on_event = &discard;
    ring_buffer__consume(ring_->rb);
    ring_->on_event = nullptr;
    // Every CPU disarmed: a hook that captured its packet for an earlier trace and ends
    // after this one begins must not send that packet as its own (lib/trace.h).
    maps_.trace_cpu.clear(0);
    lost_at_start_ = lost_total();
    expired_seen_until_ = monotonic_ns();
    maps_.trace_filter.upsert(0, filter_.to_abi());
}

TraceSession::~TraceSession()
{
    try {
        const auto installed = maps_.trace_filter.lookup(0);
        if (installed && tracer_of(*installed) == Tracer::Self)
            maps_.trace_filter.upsert(0, fp_trace_filter{});
    } catch (const std::exception &) {
        // The datapath went away under the trace: nothing left to turn off.
    }
}

bool TraceSession::poll(std::chrono::milliseconds timeout,
                        const std::function<bool(const fp_trace_event &)> &on_event)
{
    ring_->on_event = &on_event;
    const int n = ring_buffer__poll(ring_->rb, static_cast<int>(timeout.count()));
    ring_->on_event = nullptr;
    if (n == kStopped)
        return false;
    if (n < 0 && n != -EINTR)
        throw_errno("read the trace ring", -n);
    return report_expired(on_event);
}

bool TraceSession::report_expired(const std::function<bool(const fp_trace_event &)> &on_event)
{
    if (!(filter_.kinds & (1u << FP_TRACE_FLOW_EXPIRED)))
        return true;
    const std::uint64_t now = monotonic_ns();
    if (now - expired_seen_until_ < kExpiredScanEveryNs)
        return true;
    const std::vector<Flow> flows = Conntrack(maps_).expired_between(expired_seen_until_, now);
    expired_seen_until_ = now;
    for (const Flow &f : flows) {
        fp_trace_event e{};
        e.kind = FP_TRACE_FLOW_EXPIRED;
        e.ct_kind = f.orig.kind;
        e.time_ns = std::max(f.orig.expires_ns, f.reply ? f.reply->expires_ns : 0);
        e.before = tuple_of(f.key.saddr, f.key.daddr, f.key.sport, f.key.dport, f.key.proto);
        e.after = tuple_of(f.orig.saddr, f.orig.daddr, f.orig.sport, f.orig.dport, f.key.proto);
        if (wanted(e, filter_, maps_) && !on_event(e))
            return false;
    }
    return true;
}

std::uint64_t TraceSession::lost_total() const
{
    std::uint64_t n = 0;
    for (const fp_trace_cpu &c : maps_.trace_cpu.per_cpu(0))
        n += c.lost;
    return n;
}

std::uint64_t TraceSession::lost() const
{
    return lost_total() - lost_at_start_;
}

} // namespace fp

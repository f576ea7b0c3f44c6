// Conntrack under a flood: millions of new flows from spoofed sources at a published
// port never push out a connection that is established through it.
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>

#include "conntrack.hpp"
#include "conntrack_flood.hpp"
#include "flood_frames.hpp"
#include "map_set.hpp"
#include "netdev.hpp"
#include "netns_fixture.hpp"
#include "netns_scope.hpp"
#include "packet.hpp"
#include "sockets.hpp"

namespace fp::test {
namespace {

constexpr std::uint64_t kFloodFlows = 3'000'000;
constexpr std::uint16_t kPublished = 8080, kBackendPort = 7001;

// Counts the IPv4 packets that arrive in a namespace from one source address: a packet
// socket with a classic BPF filter, so that only those reach user space.
class SourceCounter {
public:
    SourceCounter(const std::string &netns, const IpAddr &source)
        : sock_(socket_in_netns(netns, AF_PACKET, SOCK_RAW, htons(ETH_P_IP)))
    {
        const std::uint32_t want = ntohl(source.raw().w[3]);
        sock_filter code[] = {
            {BPF_LD | BPF_H | BPF_ABS, 0, 0, 12},           {BPF_JMP | BPF_JEQ | BPF_K, 0, 3, ETH_P_IP},
            {BPF_LD | BPF_W | BPF_ABS, 0, 0, 26},           {BPF_JMP | BPF_JEQ | BPF_K, 0, 1, want},
            {BPF_RET | BPF_K, 0, 0, 64},                    {BPF_RET | BPF_K, 0, 0, 0},
        };
        sock_fprog prog{static_cast<unsigned short>(std::size(code)), code};
        if (::setsockopt(sock_.get(), SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0)
            throw_errno("attach a source filter", errno);
        thread_ = std::thread([this] {
            unsigned char buf[64];
            while (!stop_) {
                if (!readable(sock_.get(), 50))
                    continue;
                const ssize_t n = ::recv(sock_.get(), buf, sizeof buf, 0);
                if (n <= 0)
                    continue;
                std::lock_guard<std::mutex> lock(mutex_);
                ++count_;
                if (synack(buf, static_cast<std::size_t>(n)))
                    ++synacks_;
                if (count_ <= 5)
                    seen_ += describe(buf, static_cast<std::size_t>(n)) + "; ";
            }
        });
    }
    ~SourceCounter()
    {
        stop_ = true;
        thread_.join();
    }
    std::uint64_t count() const { return count_; }
    std::uint64_t synacks() const { return synacks_; }
    // The first few packets counted, for a failure to name them.
    std::string seen() const
    {
        std::lock_guard<std::mutex> lock(mutex_);
        return seen_;
    }

private:
    static bool synack(const unsigned char *f, std::size_t n)
    {
        const std::size_t l4 = 14 + (f[14] & 0xf) * 4u;
        return n >= l4 + 14 && f[14 + 9] == 6 && (f[l4 + 13] & 0x16) == 0x12;
    }

    // "proto 6 to 198.18.0.7 port 7001 > 51172 flags 0x12", from an Ethernet + IPv4 frame.
    static std::string describe(const unsigned char *f, std::size_t n)
    {
        if (n < 14 + 20)
            return "short frame";
        const unsigned char *ip = f + 14;
        const std::size_t l4 = 14 + (ip[0] & 0xf) * 4u;
        char out[128];
        std::snprintf(out, sizeof out, "proto %u to %u.%u.%u.%u", ip[9], ip[16], ip[17], ip[18], ip[19]);
        std::string s = out;
        if ((ip[9] == 6 || ip[9] == 17) && n >= l4 + 14) {
            std::snprintf(out, sizeof out, " port %u > %u flags 0x%02x", f[l4] << 8 | f[l4 + 1],
                          f[l4 + 2] << 8 | f[l4 + 3], ip[9] == 6 ? f[l4 + 13] : 0);
            s += out;
        }
        return s;
    }

    Socket sock_;
    mutable std::mutex mutex_;
    std::string seen_;
    std::atomic<bool> stop_{false};
    std::atomic<std::uint64_t> count_{0}, synacks_{0};
    std::thread thread_;
};

class ConntrackFloodTest : public NetnsTest {};

// A SYN flood of 3,000,000 new flows from spoofed sources (60 addresses x 50,000 ports
// in 198.18.0.0/15, routed back to the LAN) at a published port whose backend listens
// and answers them all, while two connections through the same port are established:
// one streaming all along, one idle (loader/lab/conntrack_flood.hpp). Nothing evicts an
// assured flow: the stream goes on and loses nothing, the idle connection still answers
// both ways, both are still assured in `ct list`, and the flood's half-open flows sit in
// the new-flow table. The backend's SYN-ACK retransmits for half-open flows the flood
// evicted are dropped (drop_no_flow): no SYN-ACK reaches the LAN with the backend's own
// address.
TEST_F(ConntrackFloodTest, EstablishedFlowsSurviveAFloodOfNewFlows)
{
    start();
    const IpAddr host4 = IpAddr::parse("10.90.0.1");
    FloodPlan plan;
    plan.client_ns = topo->lan_ns();
    plan.client_dev = "lan0";
    plan.client_addr = topo->lan_v4();
    plan.host_ns = topo->host_ns();
    plan.backend_ns = c1().ns;
    plan.backend_port = kBackendPort;
    plan.published = host4;
    plan.published_port = kPublished;
    plan.flows = kFloodFlows;
    Packet syn;
    syn.src_mac = MacAddr::parse(lab->in(topo->lan_ns(), {"cat", "/sys/class/net/lan0/address"}).substr(0, 17));
    syn.dst_mac = MacAddr::parse(host({"cat", "/sys/class/net/" + topo->uplink() + "/address"}).substr(0, 17));
    syn.src = IpAddr::parse("198.18.0.1");
    syn.dst = host4;
    syn.proto = 6;
    syn.tcp_flags = 0x02;
    syn.sport = FloodFrames::kFirstPort;
    syn.dport = kPublished;
    syn.payload = 0;
    plan.syn = syn.bytes();
    flatpath({"dnat", "add", "tcp", std::to_string(kPublished), c1().v4.str() + ":" + std::to_string(kBackendPort),
              "--host-ip", host4.str()});

    const SourceCounter leaked(topo->lan_ns(), c1().v4); // the backend's own address, untranslated
    const FloodOutcome r = run_conntrack_flood(plan);

    MapSet maps = MapSet::open_pinned(lab->pin_root());
    const std::size_t new_entries = maps.ct_new.entries().size();
    std::size_t assured = 0;
    for (const Flow &f : Conntrack(maps).flows())
        if (f.assured && ntohs(f.key.dport) == kPublished)
            ++assured;
    std::printf("flood: %llu new flows in %.1f s (%.0f kpps); stream: %.1f MB during the flood (%.1f MB/s), %.1f MB "
                "in all; new-flow table: %zu entries; assured flows: %zu; drop_ct_full: %llu; stray SYN-ACKs dropped "
                "(drop_no_flow): %llu; backend-address packets on the LAN: %llu\n",
                static_cast<unsigned long long>(kFloodFlows), r.seconds, r.flows_per_second / 1000,
                r.received_during_flood / 1e6, r.stream_mb_per_second(), r.stream_received / 1e6, new_entries, assured,
                static_cast<unsigned long long>(reason_count("drop_ct_full")),
                static_cast<unsigned long long>(reason_count("drop_no_flow")), static_cast<unsigned long long>(leaked.count()));

    EXPECT_EQ(r.stream_received, r.stream_sent) << "the stream lost nothing and ended cleanly";
    EXPECT_GT(r.received_during_flood, 0u) << "the stream went on during the flood";
    EXPECT_TRUE(r.idle_answers) << "the idle connection answers both ways";
    EXPECT_EQ(assured, 2u) << "both connections are still assured flows";
    EXPECT_GT(new_entries, static_cast<std::size_t>(FP_MAX_CT_NEW) / 2)
        << "the flood's half-open flows are in the new-flow table";
    EXPECT_EQ(maps.ct.entries().size(), 4u) << "nothing but the two connections was assured";
    // The backend's answers for flows the flood evicted: its SYN-ACKs are dropped; anything
    // else of a flow flatpath no longer knows goes to the stack (docs/datapath.md), and
    // is named here when there was any.
    EXPECT_EQ(leaked.synacks(), 0u) << "no SYN-ACK left with the backend's own address: " << leaked.seen();
    if (leaked.count())
        std::printf("backend-address packets on the LAN, none a SYN-ACK: %s\n", leaked.seen().c_str());
}

} // namespace
} // namespace fp::test

// Conntrack under a flood: millions of new flows from spoofed sources at a published
// port never push out a connection that is established through it.
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>

#include "conntrack.hpp"
#include "flood_frames.hpp"
#include "frame_generator.hpp"
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

// Waits up to timeout_ms for fd to be readable.
bool readable(int fd, int timeout_ms)
{
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, timeout_ms) == 1;
}

// Reads what is there (after waiting up to timeout_ms for something); "" on EOF or timeout.
std::string read_some(int fd, int timeout_ms)
{
    if (!readable(fd, timeout_ms))
        return "";
    char buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
}

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
                if (++count_ <= 5)
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
    // The first few packets counted, for a failure to name them.
    std::string seen() const
    {
        std::lock_guard<std::mutex> lock(mutex_);
        return seen_;
    }

private:
    // "proto 6 7001 > 51172 flags 0x12 to 198.18.0.7", from an Ethernet + IPv4 frame.
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
    std::atomic<std::uint64_t> count_{0};
    std::thread thread_;
};

class ConntrackFloodTest : public NetnsTest {
protected:
    const IpAddr host4 = IpAddr::parse("10.90.0.1");

    // A connection from the LAN to the published port, and the backend's end of it.
    struct Connection {
        Socket client;
        Socket server;
    };
    Connection connect_through(int listener)
    {
        Socket client = socket_in_netns(topo->lan_ns(), AF_INET, SOCK_STREAM);
        const SockAddr to = sockaddr_of(host4, kPublished);
        if (::connect(client.get(), to.ptr(), to.len) != 0)
            throw_errno("connect to the published port", errno);
        if (!readable(listener, 5000))
            throw Error("the backend saw no connection");
        return Connection{std::move(client), Socket(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC))};
    }

    std::uint64_t reason(const std::string &name)
    {
        std::uint64_t n = 0;
        const nlohmann::json stats = flatpath_json({"stats", "--json"}); // the loop must not outlive it
        for (const auto &r : stats["reasons"])
            if (r["reason"] == name)
                n += r["packets"].get<std::uint64_t>();
        return n;
    }
};

// A SYN flood of 3,000,000 new flows from spoofed sources (60 addresses x 50,000 ports
// in 198.18.0.0/15, routed back to the LAN) at a published port whose backend listens
// and answers them all, while two connections through the same port are established:
// one streaming all along, one idle. Nothing evicts an assured flow: the stream goes on
// and loses nothing, the idle connection still answers both ways, both are still
// "established" in `ct list`, and the flood's half-open flows sit in the new-flow table.
// The backend's SYN-ACK retransmits for half-open flows the flood evicted are dropped
// (drop_no_flow): no packet reaches the LAN with the backend's own address.
TEST_F(ConntrackFloodTest, EstablishedFlowsSurviveAFloodOfNewFlows)
{
    start();
    flatpath({"dnat", "add", "tcp", std::to_string(kPublished), c1().v4.str() + ":" + std::to_string(kBackendPort),
              "--host-ip", host4.str()});
    host({"ip", "route", "add", "198.18.0.0/15", "via", topo->lan_v4().str()}); // the flood's answers go back

    Socket listener = socket_in_netns(c1().ns, AF_INET, SOCK_STREAM);
    {
        const SockAddr any = sockaddr_of(IpAddr::parse("0.0.0.0"), kBackendPort);
        const int one = 1;
        ::setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        ASSERT_EQ(::bind(listener.get(), any.ptr(), any.len), 0);
        ASSERT_EQ(::listen(listener.get(), 128), 0);
    }
    Connection stream = connect_through(listener.get());
    Connection idle = connect_through(listener.get());
    ASSERT_TRUE(send_all(idle.client.get(), "hello"));
    ASSERT_EQ(read_some(idle.server.get(), 5000), "hello");

    // The stream: the client writes all along, the backend reads all along.
    std::atomic<bool> flooding{true};
    std::atomic<std::uint64_t> sent{0}, received{0}, received_during_flood{0};
    std::thread writer([&] {
        // 16 MB/s: a busy connection that leaves the two CPUs to the flood.
        const std::string chunk(16384, 'x');
        while (flooding && send_all(stream.client.get(), chunk)) {
            sent += chunk.size();
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        ::shutdown(stream.client.get(), SHUT_WR);
    });
    std::thread reader([&] {
        char buf[65536];
        while (readable(stream.server.get(), 20000)) {
            const ssize_t n = ::recv(stream.server.get(), buf, sizeof buf, 0);
            if (n <= 0)
                break;
            received += static_cast<std::uint64_t>(n);
            if (flooding)
                received_during_flood += static_cast<std::uint64_t>(n);
        }
    });

    const SourceCounter leaked(topo->lan_ns(), c1().v4); // the backend's own address, untranslated
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
    const FloodFrames flood(syn.bytes());
    double seconds = 0;
    {
        NetnsScope in_lan(topo->lan_ns());
        seconds = send_made_frames("lan0", kFloodFlows, flood);
    }
    std::this_thread::sleep_for(std::chrono::seconds(1)); // the last SYNs answered
    flooding = false;
    writer.join();
    reader.join();

    // The idle connection answers both ways.
    ASSERT_TRUE(send_all(idle.server.get(), "still here"));
    EXPECT_EQ(read_some(idle.client.get(), 5000), "still here");
    ASSERT_TRUE(send_all(idle.client.get(), "so am I"));
    EXPECT_EQ(read_some(idle.server.get(), 5000), "so am I");

    MapSet maps = MapSet::open_pinned(lab->pin_root());
    const std::size_t new_entries = maps.ct_new.entries().size();
    std::size_t established = 0;
    for (const Flow &f : Conntrack(maps).flows())
        if (f.assured && ntohs(f.key.dport) == kPublished)
            ++established;
    std::printf("flood: %llu new flows in %.1f s (%.0f kpps); stream: %.1f MB during the flood, %.1f MB in all; "
                "new-flow table: %zu entries; assured flows: %zu; drop_ct_full: %llu; stray SYN-ACKs dropped "
                "(drop_no_flow): %llu; backend-address packets on the LAN: %llu\n",
                static_cast<unsigned long long>(kFloodFlows), seconds, kFloodFlows / seconds / 1000,
                received_during_flood / 1e6, received / 1e6, new_entries, established,
                static_cast<unsigned long long>(reason("drop_ct_full")),
                static_cast<unsigned long long>(reason("drop_no_flow")), static_cast<unsigned long long>(leaked.count()));

    EXPECT_EQ(received.load(), sent.load()) << "the stream lost nothing and ended cleanly";
    EXPECT_GT(received_during_flood.load(), 0u) << "the stream went on during the flood";
    EXPECT_EQ(established, 2u) << "both connections are still assured flows";
    EXPECT_GT(new_entries, static_cast<std::size_t>(FP_MAX_CT_NEW) / 2)
        << "the flood's half-open flows are in the new-flow table";
    EXPECT_EQ(maps.ct.entries().size(), 4u) << "nothing but the two connections was assured";
    EXPECT_EQ(leaked.count(), 0u) << "no packet left with the backend's own address: " << leaked.seen();
}

} // namespace
} // namespace fp::test

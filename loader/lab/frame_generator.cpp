#include "frame_generator.hpp"

#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "error.hpp"
#include "unique_fd.hpp"

namespace fp {

namespace {

// struct virtio_net_hdr of <linux/virtio_net.h>, which C++ cannot include (a member is
// named `class`). Little-endian fields, as AF_PACKET expects on x86.
struct VnetHeader {
    std::uint8_t flags;
    std::uint8_t gso_type; // 0: VIRTIO_NET_HDR_GSO_NONE
    std::uint16_t hdr_len;
    std::uint16_t gso_size;
    std::uint16_t csum_start;
    std::uint16_t csum_offset;
};
static_assert(sizeof(VnetHeader) == 10);

constexpr unsigned kFrameSize = 256; // a ring slot: tpacket2_hdr + the frame
constexpr std::size_t kMaxFrame = 200;
constexpr unsigned kBlockSize = 1 << 16;
constexpr unsigned kBlocks = 16;
constexpr unsigned kSlots = kBlockSize / kFrameSize * kBlocks; // 4096
constexpr unsigned kDataOffset = TPACKET_ALIGN(sizeof(tpacket2_hdr));
static_assert(kDataOffset + sizeof(VnetHeader) + kMaxFrame <= kFrameSize);

class TxRing {
public:
    TxRing(const std::string &ifname)
    {
        to_.sll_family = AF_PACKET;
        to_.sll_ifindex = static_cast<int>(::if_nametoindex(ifname.c_str()));
        if (to_.sll_ifindex == 0)
            throw_errno("find " + ifname, errno);
        fd_.reset(::socket(AF_PACKET, SOCK_RAW, 0)); // protocol 0: sends only, receives nothing
        if (fd_.get() < 0)
            throw_errno("open an AF_PACKET socket", errno);
        const int v2 = TPACKET_V2, one = 1;
        tpacket_req req{kBlockSize, kBlocks, kFrameSize, kSlots};
        if (::setsockopt(fd_.get(), SOL_PACKET, PACKET_VERSION, &v2, sizeof v2) != 0 ||
            ::setsockopt(fd_.get(), SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one) != 0 ||
            ::setsockopt(fd_.get(), SOL_PACKET, PACKET_VNET_HDR, &one, sizeof one) != 0 ||
            ::setsockopt(fd_.get(), SOL_PACKET, PACKET_TX_RING, &req, sizeof req) != 0)
            throw_errno("set up an AF_PACKET transmit ring", errno);
        ring_ = static_cast<std::uint8_t *>(::mmap(nullptr, kBlockSize * kBlocks, PROT_READ | PROT_WRITE, MAP_SHARED, fd_.get(), 0));
        if (ring_ == MAP_FAILED)
            throw_errno("map the AF_PACKET transmit ring", errno);
    }
    TxRing(const TxRing &) = delete;
    TxRing &operator=(const TxRing &) = delete;
    ~TxRing()
    {
        ::munmap(ring_, kBlockSize * kBlocks);
    }

    tpacket2_hdr *slot(unsigned i) const { return reinterpret_cast<tpacket2_hdr *>(ring_ + i * kFrameSize); }
    std::uint8_t *data(unsigned i) const { return ring_ + i * kFrameSize + kDataOffset; }

    // Asks the kernel to send every slot marked TP_STATUS_SEND_REQUEST, without waiting.
    void kick() const
    {
        if (::sendto(fd_.get(), nullptr, 0, MSG_DONTWAIT, reinterpret_cast<const sockaddr *>(&to_), sizeof to_) < 0 &&
            errno != ENOBUFS && errno != EAGAIN)
            throw_errno("send from the AF_PACKET ring", errno);
    }

private:
    UniqueFd fd_;
    std::uint8_t *ring_ = nullptr;
    sockaddr_ll to_{};
};

using Clock = std::chrono::steady_clock;

// Hands free slots to the kernel and kicks it until done() says stop; fill(slot data)
// writes a slot's frame (after the virtio-net header) and returns its length, 0 when
// there is nothing more to send.
template <class Done, class Fill>
void drive(TxRing &ring, Done done, Fill fill)
{
    unsigned next = 0;
    while (!done()) {
        for (unsigned n = 0; n < kSlots; ++n, next = (next + 1) % kSlots) {
            tpacket2_hdr *h = ring.slot(next);
            if (__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) != TP_STATUS_AVAILABLE)
                break;
            const std::size_t len = fill(ring.data(next) + sizeof(VnetHeader));
            if (len == 0)
                break;
            VnetHeader vnet{};
            // hdr_len makes the kernel copy the whole frame into the skb's linear part, as
            // a NIC driver's skbs have their headers; without it everything after the
            // Ethernet header would stay in the ring's pages and every receiver would
            // first have to pull it.
            vnet.hdr_len = static_cast<std::uint16_t>(len);
            std::memcpy(ring.data(next), &vnet, sizeof vnet);
            h->tp_len = static_cast<std::uint32_t>(sizeof vnet + len);
            __atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
        }
        ring.kick();
    }
}

} // namespace

void send_frames_for(const std::string &ifname, const std::vector<std::uint8_t> &frame, double seconds)
{
    if (frame.size() > kMaxFrame)
        throw Error("the generator sends frames of at most 200 bytes");
    TxRing ring(ifname);
    const auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    drive(
        ring, [&] { return Clock::now() >= end; },
        [&](std::uint8_t *out) {
            std::memcpy(out, frame.data(), frame.size());
            return frame.size();
        });
}

double send_made_frames(const std::string &ifname, std::uint64_t count, const FrameMaker &make)
{
    TxRing ring(ifname);
    std::uint64_t made = 0;
    const auto start = Clock::now();
    drive(
        ring, [&] { return made >= count; },
        [&](std::uint8_t *out) -> std::size_t {
            if (made >= count)
                return 0;
            const std::size_t len = make(made++, out);
            if (len > kMaxFrame)
                throw Error("a generated frame is longer than 200 bytes");
            return len;
        });
    // The last frames may still be in the ring: wait until the kernel took them all.
    for (unsigned i = 0; i < kSlots; ++i)
        while (__atomic_load_n(&ring.slot(i)->tp_status, __ATOMIC_ACQUIRE) != TP_STATUS_AVAILABLE)
            ring.kick();
    return std::chrono::duration<double>(Clock::now() - start).count();
}

} // namespace fp

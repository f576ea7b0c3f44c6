#include "tap_vm.hpp"

#include <linux/if_ether.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

#include "checksum.hpp"

namespace fp {

namespace {

constexpr std::size_t kEth = ETH_HLEN;
constexpr std::uint8_t kNeighbourSolicitation = 135, kNeighbourAdvertisement = 136;

void swap_range(Bytes &f, std::size_t a, std::size_t b, std::size_t n)
{
    std::swap_ranges(f.begin() + static_cast<long>(a), f.begin() + static_cast<long>(a + n),
                     f.begin() + static_cast<long>(b));
}

} // namespace

// The neighbour advertisement answering solicitation ns (for one of our addresses, not
// duplicate address detection): solicited, override, with our MAC as the target's.
Bytes TapVm::advertisement(const Bytes &ns)
{
    Bytes f(kEth + 40 + 32, 0);
    std::copy(ns.begin() + 6, ns.begin() + 12, f.begin());
    mac_.copy_to(f.data() + 6);
    store16(f, 12, ETH_P_IPV6);
    f[kEth] = 0x60;
    store16(f, kEth + 4, 32);
    f[kEth + 6] = IPPROTO_ICMPV6;
    f[kEth + 7] = 255; // hop limit 255: the receiver checks it came from the link
    std::copy(ns.begin() + kEth + 48, ns.begin() + kEth + 64, f.begin() + kEth + 8); // from the target
    std::copy(ns.begin() + kEth + 8, ns.begin() + kEth + 24, f.begin() + kEth + 24);  // to the asker
    const std::size_t icmp = kEth + 40;
    f[icmp] = kNeighbourAdvertisement;
    f[icmp + 4] = 0x60; // solicited, override
    std::copy(ns.begin() + kEth + 48, ns.begin() + kEth + 64, f.begin() + icmp + 8);
    f[icmp + 24] = 2; // target link-layer address option, 8 bytes
    f[icmp + 25] = 1;
    mac_.copy_to(f.data() + icmp + 26);
    store16(f, icmp + 2, static_cast<std::uint16_t>(~fold(sum_words(&f[icmp], 32, pseudo_header(f, kEth, IPPROTO_ICMPV6, 32)))));
    ++neighbour_answers_;
    return f;
}

TapVm::TapVm(const std::string &netns, const std::string &name, const MacAddr &mac, std::vector<IpAddr> addrs)
    : tap_(netns, name, TunMode::Tap), mac_(mac), addrs_(std::move(addrs)), thread_([this] { run(); })
{
}

TapVm::~TapVm()
{
    stop_ = true;
    thread_.join();
}

void TapVm::run()
{
    while (!stop_) {
        const auto frame = tap_.read_packet(50);
        if (!frame)
            continue;
        const Bytes reply = answer(*frame);
        if (!reply.empty())
            tap_.write_packet(reply);
    }
}

bool TapVm::ours(const std::uint8_t *addr, bool v4) const
{
    return std::any_of(addrs_.begin(), addrs_.end(), [&](const IpAddr &a) {
        return a.is_v4() == v4 && std::memcmp(v4 ? a.raw().b + 12 : a.raw().b, addr, v4 ? 4 : 16) == 0;
    });
}

Bytes TapVm::answer(const Bytes &frame)
{
    if (frame.size() < kEth + 28)
        return {};
    const std::uint16_t type = load16(frame, 12);
    Bytes f = frame;
    // The answer goes back where the frame came from, from the guest's MAC.
    std::copy(frame.begin() + 6, frame.begin() + 12, f.begin());
    mac_.copy_to(f.data() + 6);

    if (type == ETH_P_ARP && load16(frame, kEth + 6) == 1 && ours(&frame[kEth + 24], true)) {
        store16(f, kEth + 6, 2); // reply: we are the target; the asker becomes it
        std::copy(frame.begin() + kEth + 8, frame.begin() + kEth + 18, f.begin() + kEth + 18);
        mac_.copy_to(f.data() + kEth + 8);
        std::copy(frame.begin() + kEth + 24, frame.begin() + kEth + 28, f.begin() + kEth + 14);
        ++neighbour_answers_;
        return f;
    }
    if (type == ETH_P_IP && frame[kEth + 9] == IPPROTO_UDP && (frame[kEth] & 0x0f) == 5 &&
        ours(&frame[kEth + 16], true)) {
        swap_range(f, kEth + 12, kEth + 16, 4);
        swap_range(f, kEth + 20, kEth + 22, 2);
        return f;
    }
    if (type != ETH_P_IPV6 || frame.size() < kEth + 48)
        return {};
    const std::uint8_t next = frame[kEth + 6];
    if (next == IPPROTO_ICMPV6 && frame.size() >= kEth + 64 && frame[kEth + 40] == kNeighbourSolicitation &&
        ours(&frame[kEth + 48], false) && !std::all_of(&frame[kEth + 8], &frame[kEth + 24], [](auto b) { return b == 0; }))
        return advertisement(frame);
    if (!ours(&frame[kEth + 24], false))
        return {};
    if (next == IPPROTO_UDP) {
        swap_range(f, kEth + 8, kEth + 24, 16);
        swap_range(f, kEth + 40, kEth + 42, 2);
        return f;
    }
    return {};
}

} // namespace fp

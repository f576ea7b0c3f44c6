// The tun/tap comparison (issue 15): a tap "VM" or a tun holder (a sandbox's userspace
// network, a VPN client) and a container, connected in a bed of their own each way:
//
//   tap relay     how such tools connect them today: the VM's tap and a host tap on a
//                 bridge, and the container's own tap (its only interface) joined to that
//                 host tap by a userspace relay over a unix socket pair
//   tap route     the kernel's routing path: the host routes between the VM's tap and the
//                 container's veth (no flatpath)
//   tap flatpath  the tap and the veth are flatpath endpoints (tc)
//   tun route     the host routes between the sandbox's tun and the container's veth
//   tun flatpath  the tun and the veth are flatpath endpoints
//   vpn iptables  an L3 uplink (a VPN tun) with published ports: iptables DNAT
//   vpn flatpath  the same published by flatpath (from_l3_uplink)
//
// The peer is a namespace ("vm", "sandbox", "vpn") whose only interface is a tap or tun;
// a FrameRelay of this process holds its descriptor and the host-side device's, as the VM
// monitor, the userspace stack or the VPN client would, so that iperf3 and sockperf run
// between real stacks. The packet rate is written by the descriptor holder itself, straight
// into the host-side device (64-byte UDP), and counted at the container.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "frame_relay.hpp"
#include "ip_addr.hpp"
#include "lab.hpp"
#include "mac_addr.hpp"
#include "sample.hpp"
#include "testbed.hpp"
#include "tun_device.hpp"
#include "unique_fd.hpp"

namespace fp::bench {

enum class TunTapBed { TapRelay, TapRoute, TapFlatpath, TunRoute, TunFlatpath, VpnIptables, VpnFlatpath };
const char *tuntap_name(TunTapBed b);
inline const std::vector<TunTapBed> kAllTunTapBeds = {TunTapBed::TapRelay,    TunTapBed::TapRoute,
                                                     TunTapBed::TapFlatpath, TunTapBed::TunRoute,
                                                     TunTapBed::TunFlatpath, TunTapBed::VpnIptables,
                                                     TunTapBed::VpnFlatpath};

class TunTapTestbed {
public:
    TunTapTestbed(TunTapBed bed, const BenchBinaries &bins);
    TunTapTestbed(const TunTapTestbed &) = delete;
    TunTapTestbed &operator=(const TunTapTestbed &) = delete;

    const std::string &container_ns() const { return container_ns_; }
    const std::string &peer_ns() const { return peer_ns_; }
    // Where the peer sends: the container's address, or the published one (vpn beds).
    const IpAddr &target() const { return target_; }

    // Packets per second reaching the container while the holder writes copies of one
    // UDP packet to the flood port into the host-side device for `seconds`.
    double packet_rate(double seconds);

private:
    void build_peer(TunMode mode, const std::string &name, const std::string &host_dev, const std::string &peer_cidr,
                    const std::string &host_cidr);
    void build_veth_container();
    void build_relayed_container();
    void flatpath(const std::vector<std::string> &args) const;

    TunTapBed bed_;
    std::unique_ptr<Lab> lab_;
    std::string host_ns_, container_ns_, peer_ns_;
    IpAddr peer_addr_, target_;
    std::string flatpath_bin_;
    // The descriptors (every tap and tun, the relay bed's socket pair), then the relays
    // between them: declared after them, the relays stop before they close.
    std::vector<std::unique_ptr<TunDevice>> devices_;
    UniqueFd unix_pair_[2];
    std::vector<std::unique_ptr<FrameRelay>> relays_;
    const TunDevice *host_side_ = nullptr; // where the packet-rate writer writes
    MacAddr writer_dst_mac_;               // its frames' destination MAC (taps)
};

// Every metric for one bed.
std::vector<Sample> measure_tuntap(TunTapBed bed, const BenchBinaries &bins, int run, double seconds);

} // namespace fp::bench

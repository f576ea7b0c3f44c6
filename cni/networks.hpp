// The networks of a CNI configuration directory (Podman's network_config_dir), as
// `flatpath network create|rm|ls` sees them: flatpath-cni's own, and the subnets every
// other network there uses, so that a new network never takes an address space that
// another network, a host route or a host address already has.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "ip_addr.hpp"

namespace fp::cni {

struct Subnet {
    IpAddr network;
    int prefix_len = 0;

    // "10.90.3.0/24", "fd90:0:0:3::/64"; throws CniError (invalid config) for host bits, a
    // bad prefix or a subnet too small for containers (/31, /127).
    static Subnet parse(const std::string &text);
    std::string str() const;
    bool overlaps(const Subnet &other) const;
};

struct NetworkFile {
    std::string path;
    std::string name;             // the conflist's "name"
    bool flatpath = false;        // one of its plugins is flatpath-cni
    std::vector<Subnet> subnets;  // of every plugin: "subnet", "ranges", and the same inside "ipam"
    std::string mode;             // flatpath's: "routed" or "bridge"
    std::string bridge;           // flatpath's, in bridge mode
    std::string state_dir;        // flatpath's: where its leases are
    std::vector<std::string> uplinks;
};

// Every *.conflist and *.conf in dir that parses as JSON with a "name" (Podman skips the
// others too; they are named in `skipped`).
std::vector<NetworkFile> read_networks(const std::string &dir, std::vector<std::string> *skipped = nullptr);

// Where flatpath-cni keeps its state (leases, attachment records, its log) for the networks
// of dir: the default state directory and every other one a flatpath-cni network names,
// each once.
std::vector<std::string> plugin_state_dirs(const std::string &dir);

// Something that already uses addresses: a subnet and who has it ("network podman
// (/etc/cni/net.d/87-podman.conflist)", "the route 10.1.0.0/16", "the host address 10.89.0.7").
struct AddressUser {
    Subnet subnet;
    std::string who;
};

// The host's: the main table's routes (but default routes) and the addresses of the
// current network namespace.
std::vector<AddressUser> host_address_users();
// The interfaces the current namespace's default routes leave by (IPv4 and IPv6, each
// once): where containers' traffic leaves the host, and where its replies arrive.
std::vector<std::string> default_route_interfaces();

// A LAN network's addresses: first-last of the LAN's own subnet.
struct LanRange {
    Subnet subnet;
    IpAddr first, last;
};

struct NetworkSpec {
    std::string name;
    std::vector<Subnet> subnets; // none: pick one (IPv4, and IPv6 with ipv6)
    bool ipv6 = false;
    bool bridge_mode = false;
    std::vector<std::string> uplinks;
    bool ip_masq = true;   // "ipMasq"
    std::string pin_root;  // "": the plugin's default
    std::string state_dir; // "": the plugin's default
    std::string lan_uplink;           // "lanUplink": the containers are on this uplink's LAN
    std::vector<LanRange> lan_ranges; // with lan_uplink, instead of subnets
};

// "eth0:192.168.1.200-192.168.1.220" (--lan-subnet): the range, and the LAN subnet of the
// uplink that holds it (its on-link route). Throws CniError naming what is wrong.
std::pair<std::string, LanRange> parse_lan_range(const std::string &text);

// The first free /24 of 10.90.0.0/16 (IPv4) or /64 of fd90::/48 (IPv6) that no user has.
// Not Podman's own pool (10.89.0.0/16): Podman 4 does not see a flatpath network's subnet
// when it picks one for its next bridge network.
std::optional<Subnet> free_subnet(bool v4, const std::vector<AddressUser> &users);

// Writes NAME.conflist into dir (atomically, under the directory's lock) and returns its
// path. Throws CniError naming what is wrong, having written nothing: a name Podman would
// refuse or one taken, a subnet that overlaps another network's or one of host's (naming
// its user), two subnets of one family.
std::string create_network(const std::string &dir, NetworkSpec spec, const std::vector<AddressUser> &host);

// Removes the flatpath network NAME's conflist. Throws when there is none, or when NAME is
// another plugin's network (that is for `podman network rm`).
std::string remove_network(const std::string &dir, const std::string &name);

// The conflist of a network (what create_network writes).
nlohmann::json conflist_of(const NetworkSpec &spec, const std::string &bridge);

} // namespace fp::cni

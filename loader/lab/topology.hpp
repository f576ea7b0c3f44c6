// The demo's world, also the integration tests' world: in namespaces of a Lab,
//
//   [lan] lan0 ---- uplink0 [host] fpc1 ---- eth0 [c1]
//     10.90.0.2       10.90.0.1     fpc2 ---- eth0 [c2]
//     fd90::2         fd90::1
//
// The host routes the containers the way flatpath's routed mode does: the host
// side of each veth has no address; each container has a /32 and a /128 and a
// default route to a link-local gateway whose neighbour entry is the host
// veth's MAC; the host has a route and a permanent neighbour per container.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "ip_addr.hpp"
#include "lab.hpp"
#include "mac_addr.hpp"

namespace fp {

struct Container {
    std::string name; // c1, c2
    std::string ns;
    std::string host_if; // fpc1 (in the host namespace)
    MacAddr mac;         // eth0's
    MacAddr host_mac;    // host_if's
    IpAddr v4;
    IpAddr v6;
};

// Wires container `name` (number n: addresses 10.91.0.1n and fd91::1n) to host_ns in
// routed mode, as described above. say (may be empty) is told what is made.
Container add_routed_container(Lab &lab, const std::string &host_ns, const std::string &name, int n,
                               const std::function<void(const std::string &)> &say);
// The same with the container's addresses given (one of a cluster host's subnet).
Container add_routed_container(Lab &lab, const std::string &host_ns, const std::string &name, int n, const IpAddr &v4,
                               const IpAddr &v6, const std::function<void(const std::string &)> &say);

class Topology {
public:
    // say: told each step, for the demo's narration; may be empty.
    Topology(Lab &lab, std::function<void(const std::string &)> say);

    const std::string &lan_ns() const { return lan_ns_; }
    const std::string &host_ns() const { return host_ns_; }
    const std::string &uplink() const { return uplink_; }
    const IpAddr &lan_v4() const { return lan_v4_; }
    const IpAddr &lan_v6() const { return lan_v6_; }
    const std::vector<Container> &containers() const { return containers_; }

    // The command line of `flatpath --pin-root LAB_PIN_ROOT ARGS...` run in the host namespace.
    std::vector<std::string> flatpath_argv(const std::string &flatpath_bin, const std::vector<std::string> &args) const;
    // Runs it; returns its output, throws when it fails.
    std::string flatpath(const std::string &flatpath_bin, const std::vector<std::string> &args) const;
    // `flatpath up --uplink uplink0` and `endpoint add` for every container.
    void start_datapath(const std::string &flatpath_bin, const std::string &xdp_mode) const;

private:
    Lab &lab_;
    std::function<void(const std::string &)> say_;
    std::string lan_ns_, host_ns_;
    std::string uplink_ = "uplink0";
    IpAddr lan_v4_ = IpAddr::parse("10.90.0.2");
    IpAddr lan_v6_ = IpAddr::parse("fd90::2");
    std::vector<Container> containers_;
};

} // namespace fp

// `flatpath up` and `flatpath down`: the datapath's whole lifecycle.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "attach.hpp"
#include "config_counts.hpp"
#include "pin_root.hpp"
#include "table_sizes.hpp"

namespace fp {

struct UpOptions {
    std::vector<std::string> uplinks;
    // None: uplinks attached already keep what they have; new ones get auto.
    std::optional<XdpMode> xdp_mode;
    // Re-read the host's addresses and recount fp_config from the tables (a repair that
    // scans them). The CLI's `up` does; the CNI plugin, which must stay lean, does not
    // when the datapath is already up.
    bool refresh = true;
    // The masquerade port range; none: kept (a fresh datapath gets the default).
    std::optional<MasqPorts> masq_ports;
    // The tables' sizes for a fresh datapath; one that is up must have these already.
    TableSizeRequest sizes;
};

// Loads and pins the programs and maps (unless already up: then it only adds
// uplinks), and attaches the uplink programs. Everything it did is undone if a
// step fails; nothing that was there before is touched. Returns a line per uplink
// saying what it got (native XDP and tc, tc only, ...) and why.
std::vector<std::string> datapath_up(const PinRoot &root, const UpOptions &opts);

// Detaches everything flatpath attached and removes the pins. Returns false when
// the datapath was not up (nothing to do).
bool datapath_down(const PinRoot &root);
// datapath_down, only when no endpoint is registered (a failed first CNI ADD's undo):
// checked and done under the locks that `up` and the tables take, so that a concurrent
// ADD's endpoint is never taken down with it.
bool datapath_down_if_unused(const PinRoot &root);

// Throws unless running as root: every command loads, pins or reads BPF objects.
void require_root();

} // namespace fp

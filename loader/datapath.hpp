// `flatpath up` and `flatpath down`: the datapath's whole lifecycle.
#pragma once

#include <string>
#include <vector>

#include "attach.hpp"
#include "pin_root.hpp"

namespace fp {

struct UpOptions {
    std::vector<std::string> uplinks;
    XdpMode xdp_mode = XdpMode::Auto;
    // Re-read the host's addresses and recount fp_config from the tables (a repair that
    // scans them). The CLI's `up` does; the CNI plugin, which must stay lean, does not
    // when the datapath is already up.
    bool refresh = true;
};

// Loads and pins the programs and maps (unless already up: then it only adds
// uplinks), and attaches the uplink programs. Everything it did is undone if a
// step fails; nothing that was there before is touched.
void datapath_up(const PinRoot &root, const UpOptions &opts);

// Detaches everything flatpath attached and removes the pins. Returns false when
// the datapath was not up (nothing to do).
bool datapath_down(const PinRoot &root);

// Throws unless running as root: every command loads, pins or reads BPF objects.
void require_root();

} // namespace fp

// The containers flatpath knows of on this host: the CNI plugin's attachment records (in
// its state directories) and the daemon's records (in its run directory), joined by
// container ID. What `ps` lists, and whose names `trace` shows.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ip_addr.hpp"

namespace fp {

struct KnownContainer {
    std::string id;
    std::string name;
    std::string network;  // the plugin's network; "" for one only the daemon accelerates (attach mode)
    std::string host_dev; // "" when the daemon's record names no device
    std::vector<IpAddr> addresses;
    bool cni = false;     // the plugin attached it
    bool daemon = false;  // the daemon has entries for it
};

// One row per attachment (a container on two networks has two), in name order.
std::vector<KnownContainer> known_containers(const std::vector<std::string> &state_dirs, const std::string &run_dir);
std::map<IpAddr, std::string> names_by_address(const std::vector<KnownContainer> &containers);

} // namespace fp

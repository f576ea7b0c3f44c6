// The containers flatpath knows of on this host: the CNI plugin's attachment records (in
// its state directories) and the daemon's records (in its run directory), joined by
// container ID. What `ps` lists, and whose names `trace` shows.
#pragma once

#include <CLI/CLI.hpp>

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

// Where the containers' records are: the daemon's run directory, the plugin's state
// directories (none given: the default and those the configuration directory's
// flatpath-cni networks name).
struct RecordDirs {
    std::string run_dir = "/run/flatpath";
    std::string config_dir = "/etc/cni/net.d";
    std::vector<std::string> state_dirs;

    std::vector<std::string> plugin_state_dirs() const;
    // Their options, for a command that reads what is there: in_run_dir, in_state_dir say what.
    void add_options(CLI::App &cmd, const std::string &in_run_dir, const std::string &in_state_dir);
};

// One row per attachment (a container on two networks has two), in name order.
std::vector<KnownContainer> known_containers(const RecordDirs &dirs);
std::map<IpAddr, std::string> names_by_address(const std::vector<KnownContainer> &containers);

} // namespace fp

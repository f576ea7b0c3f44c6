// `flatpath daemon`: follows the container runtime and keeps the datapath in step
// with the running containers' labels (see container_plan.hpp for the policy).
//
// Start: the startup script (a failure stops the start), the datapath up with its
// uplinks, the maps reconciled with the runtime: what is missing is added, what the
// daemon made for containers that are gone is removed, live entries and their
// conntrack flows are left as they are. Then each event (start, died/die,
// remove/destroy, network connect/disconnect) updates that container. When the
// runtime's socket goes away the daemon retries with backoff and reconciles again.
// SIGTERM/SIGINT: the shutdown script, then exit; the datapath stays (traffic keeps
// flowing through a restart) unless remove_datapath_on_exit.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "attach.hpp"
#include "cluster_member.hpp"
#include "container_plan.hpp"
#include "pin_root.hpp"

namespace fp {

struct DaemonOptions {
    std::string runtime_api; // the runtime's socket; "" to look for Podman's, then Docker's
    LabelPolicy policy;
    std::string startup_script;  // run with /bin/sh -c, in the daemon's environment
    std::string shutdown_script;
    std::string metrics_listen;  // "" for no metrics endpoint
    std::vector<std::string> uplinks;
    std::optional<XdpMode> xdp_mode; // none: as `flatpath up` without --xdp-mode
    std::string run_dir; // the daemon's lock and its records of what it added
    bool remove_datapath_on_exit = false;
    ClusterOptions cluster; // its etcd_endpoints empty: no cluster member
};

// Runs until SIGTERM or SIGINT; returns the process's exit status. Throws for what stops
// the start (a failing startup script, a datapath that cannot come up, another daemon).
int run_daemon(const PinRoot &root, const DaemonOptions &opts);

} // namespace fp

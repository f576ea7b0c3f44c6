// ADD and DEL: attaching a container to the flatpath datapath in routed mode, and
// taking it off again.
//
// ADD leases addresses, creates the veth pair (the container's end named
// CNI_IFNAME in its namespace), gives the container its /32 and /128 with a
// default route to a link-local gateway whose neighbour entry is the host veth's
// MAC, gives the host a route and a permanent neighbour per address, brings the
// datapath up if needed, registers the endpoint and publishes the
// portMappings. Each step pushes its undo: a failure anywhere leaves nothing.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "net_config.hpp"
#include "request.hpp"

namespace fp::cni {

// The host end's name: derived from the container ID and interface name only, so that
// DEL finds it without the ADD result.
std::string host_veth_name(const std::string &container_id, const std::string &ifname);

// Test hook: FLATPATH_CNI_FAIL_AFTER=STEP makes ADD fail right after STEP, to prove
// that rollback leaves nothing behind. Steps: ipam, veth, container, host, datapath,
// endpoint, ports, record.
inline constexpr const char *kFailAfterEnv = "FLATPATH_CNI_FAIL_AFTER";

nlohmann::json add(const Request &req, const NetConfig &cfg);
void del(const Request &req, const NetConfig &cfg);
// Throws (code 103) naming the first thing of the attachment that is missing or wrong.
void check(const Request &req, const NetConfig &cfg);
// Removes every attachment of this network whose (container ID, interface) is not in
// the config's "cni.dev/valid-attachments" (or "cni.dev/attachments").
void gc(const Request &req, const NetConfig &cfg);
// Nothing when ADD can work; code 50 when it cannot (no bpf filesystem for the pins).
void status(const NetConfig &cfg);

} // namespace fp::cni

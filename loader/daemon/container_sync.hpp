// Makes the datapath hold what the label policy asks for each container, and takes
// back what the daemon gave a container that is gone. Every change is a difference
// against the daemon's records (DaemonRecords) and the maps themselves, so applying
// the same plan twice changes nothing, and a daemon restarted after kill -9 leaves
// live entries and their conntrack flows alone. Entries someone else made (the CNI
// plugin's endpoints, an operator's DNAT) are never touched.
#pragma once

#include <cstddef>
#include <map>
#include <set>
#include <string>

#include "container_info.hpp"
#include "container_plan.hpp"
#include "daemon_records.hpp"
#include "map_set.hpp"
#include "pin_root.hpp"

namespace fp {

class ContainerSync {
public:
    // Loads the records the daemon left (maybe before a crash).
    ContainerSync(const PinRoot &root, MapSet &maps, const DaemonRecords &records);

    // Adds what plan asks for and is missing; removes what the daemon gave this
    // container before that plan no longer asks for. Returns the problems met (each
    // logged with the container's name); what could be applied is applied.
    std::size_t apply(const ContainerInfo &c, const ContainerPlan &plan);
    // Removes everything the daemon gave the container (its flows are purged with it).
    std::size_t forget(const std::string &container_id);
    // forget() for every container the daemon has entries for that is not in keep.
    std::size_t forget_all_but(const std::set<std::string> &keep);
    // forget() for every container (--remove-datapath-on-exit).
    std::size_t forget_all() { return forget_all_but({}); }

    // Containers with entries from the daemon.
    std::size_t managed() const { return applied_.size(); }
    bool managed_has(const std::string &container_id) const { return applied_.contains(container_id); }

private:
    void remember(const std::string &id, const AppliedState &state);

    const PinRoot &root_;
    MapSet &maps_;
    const DaemonRecords &records_;
    std::map<std::string, AppliedState> applied_;
};

} // namespace fp

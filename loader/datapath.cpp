#include "datapath.hpp"

#include <unistd.h>

#include <filesystem>

#include "config_counts.hpp"
#include "datapath_lock.hpp"
#include "local_addrs.hpp"
#include "error.hpp"
#include "interfaces.hpp"
#include "map_set.hpp"
#include "netdev.hpp"
#include "programs.hpp"
#include "rollback.hpp"

namespace fp {

void require_root()
{
    if (::geteuid() != 0)
        throw Error("flatpath must run as root (it loads BPF programs and changes network devices)");
}

void datapath_up(const PinRoot &root, const UpOptions &opts)
{
    root.require_bpffs();
    // Serialises `up` between processes (concurrent first CNI ADDs): the pin root may not
    // exist yet, so the lock is its parent directory's.
    const DirectoryLock serialised(std::filesystem::path(root.path()).parent_path().string());
    std::vector<NetDev> uplinks; // validated before anything changes
    for (const std::string &name : opts.uplinks)
        uplinks.push_back(NetDev::by_name(name));

    Rollback undo_pins; // runs last: after the uplinks are detached and the maps closed
    const bool fresh = !root.is_up();
    if (fresh) {
        const LoadedPrograms progs = LoadedPrograms::load(root.path());
        progs.pin(root);
        undo_pins.push("pins", [&] { remove_pins(root); });
    }
    DatapathLock lock(root);
    MapSet maps = MapSet::open_pinned(root.path());
    if (fresh || opts.refresh) {
        sync_local_addrs(maps);
        recount_config(maps);
    }
    Interfaces ifaces(root, maps);
    Rollback undo_uplinks;
    if (!maps.ifaces.lookup(iface_key(NetDev::by_name("lo").ifindex))) {
        ifaces.attach_local();
        undo_uplinks.push("lo", [&] { ifaces.detach(NetDev::by_name("lo").ifindex, "lo"); });
    }
    for (const NetDev &dev : uplinks) {
        const bool had = maps.ifaces.lookup(iface_key(dev.ifindex)).has_value();
        ifaces.attach_uplink(dev, opts.xdp_mode);
        if (!had)
            undo_uplinks.push("uplink " + dev.name, [&, dev] { ifaces.detach(dev.ifindex, dev.name); });
    }
    undo_uplinks.commit();
    undo_pins.commit();
}

bool datapath_down(const PinRoot &root)
{
    if (!root.is_up())
        return false;
    {
        DatapathLock lock(root);
        MapSet maps = MapSet::open_pinned(root.path());
        Interfaces(root, maps).detach_all();
    }
    remove_pins(root);
    return true;
}

} // namespace fp

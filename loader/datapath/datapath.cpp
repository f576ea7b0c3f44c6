#include "datapath.hpp"

#include <unistd.h>

#include <functional>

#include "config_counts.hpp"
#include "datapath_lock.hpp"
#include "endpoint_prefixes.hpp"
#include "local_addrs.hpp"
#include "error.hpp"
#include "interfaces.hpp"
#include "map_set.hpp"
#include "netdev.hpp"
#include "programs.hpp"
#include "xdp_plan.hpp"
#include "rollback.hpp"

namespace fp {

void require_root()
{
    if (::geteuid() != 0)
        throw Error("flatpath must run as root (it loads BPF programs and changes network devices)");
}

namespace {

// Detaches everything and removes the pins, unless keep(maps) says otherwise under the
// datapath lock. False when nothing was removed.
bool take_down(const PinRoot &root, const std::function<bool(MapSet &)> &keep)
{
    if (!root.is_up())
        return false;
    {
        DatapathLock lock(root);
        pin_missing_maps(root); // an older flatpath's datapath: the set opens, and goes whole
        MapSet maps = MapSet::open_pinned(root.path());
        if (keep(maps))
            return false;
        Interfaces(root, maps).detach_all();
    }
    remove_pins(root);
    return true;
}

} // namespace

std::vector<std::string> datapath_up(const PinRoot &root, const UpOptions &opts)
{
    root.ensure_bpffs();
    // Serialises `up` between processes (concurrent first CNI ADDs): the pin root may not
    // exist yet, so the lock is its parent directory's.
    const FileLock serialised = FileLock::on_directory(root.parent());
    std::vector<NetDev> uplinks; // validated before anything changes
    for (const std::string &name : opts.uplinks) {
        uplinks.push_back(NetDev::by_name(name));
        require_min_mtu(uplinks.back(), "an uplink");
        if (opts.xdp_mode) // a mode the device cannot take is refused here, not half way
            plan_xdp(*opts.xdp_mode, uplinks.back(), receives_from_wire(uplinks.back()));
    }

    Rollback undo_pins; // runs last: after the uplinks are detached and the maps closed
    std::vector<std::string> notes;
    const bool fresh = !root.is_up();
    if (!fresh && opts.sizes.any())
        opts.sizes.check_matches(pinned_table_sizes(root), root.path());
    if (fresh) {
        const LoadedPrograms progs = LoadedPrograms::load(root.path(), true, opts.sizes.applied_to(TableSizes{}));
        progs.pin(root);
        undo_pins.push("pins", [&] { remove_pins(root); });
        progs.attach_host_sockets(root);
    }
    DatapathLock lock(root);
    if (!fresh)
        for (const std::string &name : pin_missing_maps(root))
            notes.push_back("added map " + name + ", which the datapath's older programs do not use: `flatpath down` "
                            "and `flatpath up` load this version's");
    MapSet maps = MapSet::open_pinned(root.path());
    if (fresh || opts.refresh) {
        sync_local_addrs(maps);
        recount_config(maps);
        rebuild_endpoint_prefixes(maps);
    }
    if (opts.masq_ports)
        set_masq_ports(maps, *opts.masq_ports);
    Interfaces ifaces(root, maps);
    Rollback undo_uplinks;
    for (const NetDev &dev : uplinks) {
        const bool had = maps.ifaces.lookup(iface_key(dev.ifindex)).has_value();
        notes.push_back(ifaces.attach_uplink(dev, opts.xdp_mode));
        if (!had)
            undo_uplinks.push("uplink " + dev.name, [&, dev] { ifaces.detach(dev.ifindex, dev.name); });
    }
    undo_uplinks.commit();
    undo_pins.commit();
    return notes;
}

bool datapath_down(const PinRoot &root)
{
    return take_down(root, [](MapSet &) { return false; });
}

bool datapath_down_if_unused(const PinRoot &root)
{
    const FileLock no_concurrent_up = FileLock::on_directory(root.parent()); // the lock `up` holds
    return take_down(root, [](MapSet &maps) { return !maps.endpoints.entries().empty(); });
}

} // namespace fp

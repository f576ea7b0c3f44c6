#include "programs.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <vector>

#include "cgroup.hpp"
#include "error.hpp"
#include "flatpath_abi.h"
#include "host_sockets.skel.h"
#include "sockets.hpp"
#include "tc_endpoint.skel.h"
#include "tc_l3_uplink.skel.h"
#include "tc_to_endpoint.skel.h"
#include "tc_to_tun.skel.h"
#include "tc_tun_endpoint.skel.h"
#include "tc_uplink.skel.h"
#include "xdp_uplink.skel.h"

namespace fp {

namespace {

constexpr std::array<const char *, 23> kMapNames = {
    FP_MAP_ENDPOINTS,   FP_MAP_EP_PREFIXES,  FP_MAP_IFACES,       FP_MAP_TX_DEVS,      FP_MAP_EP_STATS,    FP_MAP_REASONS,
    FP_MAP_DNAT,        FP_MAP_DNAT_RANGES,  FP_MAP_BACKENDS,     FP_MAP_LOCAL_ADDRS, FP_MAP_CT,
    FP_MAP_CT_NEW,      FP_MAP_MARKS,        FP_MAP_CONFIG,       FP_MAP_MASQ,        FP_MAP_MASQ_EXCEPT,
    FP_MAP_CLUSTER,     FP_MAP_TRACE_FILTER, FP_MAP_TRACE_CPU,    FP_MAP_TRACE_RING,  FP_MAP_POLICY,
    FP_MAP_POLICY_FLOWS, FP_MAP_DELIVERY};
constexpr std::array<Program, 7> kPrograms = {Program::XdpUplink,   Program::TcUplink, Program::TcEndpoint,
                                              Program::TunEndpoint, Program::L3Uplink, Program::ToEndpoint,
                                              Program::ToTun};
// The host's socket hooks, attached to the cgroup2 root by `up`: each link is pinned
// under the programs' directory by its program's name, and goes with its pin.
constexpr std::array<const char *, 8> kHostSocketHooks = {"host_connect4",  "host_connect6",     "host_sendmsg4",
                                                          "host_sendmsg6",  "host_recvmsg4",     "host_recvmsg6",
                                                          "host_getpeername4", "host_getpeername6"};

// A skeleton pointer that destroys the skeleton (programs, maps fds) with it.
template <class Skel>
using SkelPtr = std::unique_ptr<Skel, void (*)(Skel *)>;

template <class Skel>
SkelPtr<Skel> open_skeleton(const char *what)
{
    Skel *raw = Skel::open();
    if (!raw)
        throw_errno(std::string("open BPF object ") + what, errno);
    return SkelPtr<Skel>(raw, Skel::destroy);
}

// A pinned map left by another flatpath version (another type or layout) would make the
// load fail in the verifier, or worse, be read with the wrong layout: say so plainly.
void check_reusable(const bpf_map *map, int fd)
{
    bpf_map_info info{};
    __u32 len = sizeof info;
    if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0)
        throw_errno(std::string("inspect pinned map ") + bpf_map__name(map), errno);
    if (info.type != bpf_map__type(map) || info.key_size != bpf_map__key_size(map) ||
        info.value_size != bpf_map__value_size(map) || info.max_entries != bpf_map__max_entries(map))
        throw Error(std::string("pinned map ") + bpf_map__name(map) +
                    " is from another flatpath version (its type or layout differs): run `flatpath down` and "
                    "`flatpath up` again (tracked flows are lost)");
}

// Points every map of obj at an existing map of the same name, when there is one.
void reuse_maps(bpf_object *obj, const std::map<std::string, int> &existing)
{
    bpf_map *map = nullptr;
    bpf_object__for_each_map(map, obj)
    {
        const auto it = existing.find(bpf_map__name(map));
        if (it == existing.end())
            continue;
        check_reusable(map, it->second);
        if (const int err = bpf_map__reuse_fd(map, it->second); err != 0)
            throw_errno(std::string("reuse map ") + bpf_map__name(map), -err);
    }
}

// Gives the sized maps of obj their capacity, before anything is created or reused.
void size_maps(bpf_object *obj, const TableSizes &sizes)
{
    bpf_map *map = nullptr;
    bpf_object__for_each_map(map, obj)
    {
        if (const auto n = sizes.max_entries_of(bpf_map__name(map)))
            if (const int err = bpf_map__set_max_entries(map, *n); err != 0)
                throw_errno(std::string("size map ") + bpf_map__name(map), -err);
    }
}

template <class Skel>
void load_skeleton(Skel *skel, const char *what)
{
    if (const int err = Skel::load(skel); err != 0)
        throw_errno(std::string("load BPF object ") + what + " (run with -v for the verifier log)", -err);
}

bool path_exists(const std::string &path)
{
    struct stat st{};
    return ::stat(path.c_str(), &st) == 0;
}

} // namespace

std::span<const Program> all_programs()
{
    return kPrograms;
}

std::span<const char *const> all_map_names()
{
    return kMapNames;
}

const char *program_name(Program p)
{
    switch (p) {
    case Program::XdpUplink: return "xdp_uplink";
    case Program::TcUplink: return "from_uplink";
    case Program::TcEndpoint: return "from_container";
    case Program::TunEndpoint: return "from_tun";
    case Program::L3Uplink: return "from_l3_uplink";
    case Program::ToEndpoint: return "to_container";
    case Program::ToTun: return "to_tun";
    }
    return "?";
}

ProgFd ProgFd::open_pinned(const PinRoot &root, Program p)
{
    const std::string path = root.prog_path(program_name(p));
    const int fd = bpf_obj_get(path.c_str());
    if (fd < 0) {
        if (errno == ENOENT && root.is_up())
            throw Error("the datapath at " + root.path() + " predates program " + program_name(p) +
                        ": run `flatpath down` and `flatpath up` (tracked flows are lost)");
        if (errno == ENOENT)
            throw Error("the datapath is not up at " + root.path() + " (run: flatpath up)");
        throw_errno("open pinned program " + path, errno);
    }
    return ProgFd(fd);
}

std::optional<ProgFd> ProgFd::try_open_pinned(const PinRoot &root, Program p)
{
    if (root.is_up() && !path_exists(root.prog_path(program_name(p))))
        return std::nullopt;
    return open_pinned(root, p);
}

std::uint32_t ProgFd::id() const
{
    bpf_prog_info info{};
    __u32 len = sizeof info;
    if (bpf_obj_get_info_by_fd(fd_.get(), &info, &len) != 0)
        throw_errno("inspect program", errno);
    return info.id;
}

struct LoadedPrograms::Objects {
    SkelPtr<xdp_uplink> xdp = open_skeleton<xdp_uplink>("xdp_uplink");
    SkelPtr<tc_uplink> tcu = open_skeleton<tc_uplink>("tc_uplink");
    SkelPtr<tc_endpoint> tce = open_skeleton<tc_endpoint>("tc_endpoint");
    SkelPtr<tc_tun_endpoint> tun = open_skeleton<tc_tun_endpoint>("tc_tun_endpoint");
    SkelPtr<tc_l3_uplink> l3u = open_skeleton<tc_l3_uplink>("tc_l3_uplink");
    SkelPtr<tc_to_endpoint> toe = open_skeleton<tc_to_endpoint>("tc_to_endpoint");
    SkelPtr<tc_to_tun> totun = open_skeleton<tc_to_tun>("tc_to_tun");
    SkelPtr<host_sockets> hs = open_skeleton<host_sockets>("host_sockets");
    std::vector<UniqueFd> pinned_fds; // maps opened from pins (libbpf reuses a dup of each)
};

LoadedPrograms::LoadedPrograms(std::unique_ptr<Objects> objs) : objs_(std::move(objs)) {}
LoadedPrograms::LoadedPrograms(LoadedPrograms &&) noexcept = default;
LoadedPrograms &LoadedPrograms::operator=(LoadedPrograms &&) noexcept = default;
LoadedPrograms::~LoadedPrograms() = default;

LoadedPrograms LoadedPrograms::load(const std::string &reuse_pins_from, bool with_trace, const TableSizes &sizes)
{
    auto objs = std::make_unique<Objects>();
    for (bpf_object *obj : {objs->xdp->obj, objs->tcu->obj, objs->tce->obj, objs->tun->obj, objs->l3u->obj,
                            objs->toe->obj, objs->totun->obj, objs->hs->obj})
        size_maps(obj, sizes);
    objs->xdp->rodata->fp_trace_built = with_trace;
    objs->tcu->rodata->fp_trace_built = with_trace;
    objs->tce->rodata->fp_trace_built = with_trace;
    objs->tun->rodata->fp_trace_built = with_trace;
    objs->l3u->rodata->fp_trace_built = with_trace;
    objs->toe->rodata->fp_trace_built = with_trace;
    objs->totun->rodata->fp_trace_built = with_trace;
    std::map<std::string, int> existing;
    if (!reuse_pins_from.empty()) {
        for (const char *name : kMapNames) {
            const std::string path = reuse_pins_from + "/" + name;
            const int fd = bpf_obj_get(path.c_str());
            if (fd < 0) {
                if (errno == ENOENT)
                    continue;
                throw_errno("open pinned map " + path, errno);
            }
            objs->pinned_fds.emplace_back(fd);
            existing[name] = fd;
        }
    }

    // The first object creates whatever maps are not pinned yet; the others take its fds.
    reuse_maps(objs->xdp->obj, existing);
    load_skeleton(objs->xdp.get(), "xdp_uplink");
    for (const char *name : kMapNames)
        existing[name] = bpf_map__fd(bpf_object__find_map_by_name(objs->xdp->obj, name));
    reuse_maps(objs->tcu->obj, existing);
    load_skeleton(objs->tcu.get(), "tc_uplink");
    reuse_maps(objs->tce->obj, existing);
    load_skeleton(objs->tce.get(), "tc_endpoint");
    reuse_maps(objs->tun->obj, existing);
    load_skeleton(objs->tun.get(), "tc_tun_endpoint");
    reuse_maps(objs->l3u->obj, existing);
    load_skeleton(objs->l3u.get(), "tc_l3_uplink");
    reuse_maps(objs->toe->obj, existing);
    load_skeleton(objs->toe.get(), "tc_to_endpoint");
    reuse_maps(objs->totun->obj, existing);
    load_skeleton(objs->totun.get(), "tc_to_tun");
    // Only this namespace's sockets are translated: those are the host's.
    objs->hs->rodata->fp_host_netns_cookie = current_netns_cookie();
    reuse_maps(objs->hs->obj, existing);
    load_skeleton(objs->hs.get(), "host_sockets");
    return LoadedPrograms(std::move(objs));
}

int LoadedPrograms::prog_fd(Program p) const
{
    switch (p) {
    case Program::XdpUplink: return bpf_program__fd(objs_->xdp->progs.xdp_uplink);
    case Program::TcUplink: return bpf_program__fd(objs_->tcu->progs.from_uplink);
    case Program::TcEndpoint: return bpf_program__fd(objs_->tce->progs.from_container);
    case Program::TunEndpoint: return bpf_program__fd(objs_->tun->progs.from_tun);
    case Program::L3Uplink: return bpf_program__fd(objs_->l3u->progs.from_l3_uplink);
    case Program::ToEndpoint: return bpf_program__fd(objs_->toe->progs.to_container);
    case Program::ToTun: return bpf_program__fd(objs_->totun->progs.to_tun);
    }
    return -1;
}

int LoadedPrograms::map_fd(const char *map_name) const
{
    const bpf_map *map = bpf_object__find_map_by_name(objs_->xdp->obj, map_name);
    if (!map)
        throw Error(std::string("no map named ") + map_name);
    return bpf_map__fd(map);
}

void LoadedPrograms::pin(const PinRoot &root) const
{
    std::vector<std::string> made; // undone in reverse if a later pin fails
    const auto undo = [&] {
        for (auto it = made.rbegin(); it != made.rend(); ++it) {
            if (::unlink(it->c_str()) != 0)
                ::rmdir(it->c_str());
        }
    };
    try {
        for (const std::string &dir : {root.path(), root.progs_dir()}) {
            if (::mkdir(dir.c_str(), 0700) == 0)
                made.push_back(dir);
            else if (errno != EEXIST)
                throw_errno("create " + dir, errno);
        }
        for (const char *name : kMapNames) {
            const std::string path = root.map_path(name);
            if (path_exists(path))
                continue;
            if (bpf_obj_pin(map_fd(name), path.c_str()) != 0)
                throw_errno("pin map " + path, errno);
            made.push_back(path);
        }
        for (Program p : kPrograms) {
            const std::string path = root.prog_path(program_name(p));
            if (bpf_obj_pin(prog_fd(p), path.c_str()) != 0)
                throw_errno("pin program " + path, errno);
            made.push_back(path);
        }
    } catch (...) {
        undo();
        throw;
    }
}

std::vector<std::string> pin_missing_maps(const PinRoot &root)
{
    std::vector<std::string> added;
    // The definitions come from the object, opened but not loaded: nothing is verified.
    const SkelPtr<xdp_uplink> skel = open_skeleton<xdp_uplink>("xdp_uplink");
    for (const char *name : kMapNames) {
        const std::string path = root.map_path(name);
        if (path_exists(path))
            continue;
        const bpf_map *def = bpf_object__find_map_by_name(skel->obj, name);
        if (!def)
            throw Error(std::string("no map named ") + name);
        LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = bpf_map__map_flags(def));
        const UniqueFd fd(bpf_map_create(bpf_map__type(def), name, bpf_map__key_size(def), bpf_map__value_size(def),
                                         bpf_map__max_entries(def), &opts));
        if (fd.get() < 0)
            throw_errno(std::string("create map ") + name, errno);
        if (bpf_obj_pin(fd.get(), path.c_str()) != 0)
            throw_errno("pin map " + path, errno);
        added.emplace_back(name);
    }
    return added;
}

void LoadedPrograms::attach_host_sockets(const PinRoot &root) const
{
    const UniqueFd cg = open_cgroup2_root();
    std::vector<std::string> made;
    try {
        for (const char *name : kHostSocketHooks) {
            bpf_program *prog = bpf_object__find_program_by_name(objs_->hs->obj, name);
            bpf_link *link = prog ? bpf_program__attach_cgroup(prog, cg.get()) : nullptr;
            if (!link)
                throw_errno(std::string("attach ") + name + " to the cgroup2 root", errno);
            const std::string path = root.prog_path(name);
            const int err = bpf_link__pin(link, path.c_str());
            bpf_link__destroy(link); // the pin holds it from here
            if (err != 0)
                throw_errno("pin " + path, -err);
            made.push_back(path);
        }
    } catch (...) {
        for (const std::string &p : made)
            ::unlink(p.c_str());
        throw;
    }
}

std::vector<std::pair<std::string, bool>> host_socket_hooks(const PinRoot &root)
{
    std::vector<std::pair<std::string, bool>> out;
    for (const char *name : kHostSocketHooks) {
        const UniqueFd link(bpf_obj_get(root.prog_path(name).c_str()));
        bpf_link_info info{};
        __u32 len = sizeof info;
        // A link whose cgroup went away stays pinned but has no cgroup any more.
        const bool attached = link.get() >= 0 && bpf_obj_get_info_by_fd(link.get(), &info, &len) == 0 &&
                              info.type == BPF_LINK_TYPE_CGROUP && info.cgroup.cgroup_id != 0;
        out.emplace_back(name, attached);
    }
    return out;
}

void remove_pins(const PinRoot &root)
{
    for (const char *name : kHostSocketHooks)
        ::unlink(root.prog_path(name).c_str()); // detaches the hook
    for (Program p : kPrograms)
        ::unlink(root.prog_path(program_name(p)).c_str());
    ::rmdir(root.progs_dir().c_str());
    for (const char *name : kMapNames)
        ::unlink(root.map_path(name).c_str());
    ::rmdir(root.path().c_str());
}

} // namespace fp

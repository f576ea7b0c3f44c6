#include "table_sizes.hpp"

#include <bpf/bpf.h>

#include <cerrno>
#include <fstream>

#include "error.hpp"
#include "map_fd.hpp"
#include "programs.hpp"

namespace fp {

namespace {

std::uint32_t max_entries(const PinRoot &root, const char *map)
{
    const MapFd fd = MapFd::open_pinned(root.map_path(map));
    bpf_map_info info{};
    __u32 len = sizeof info;
    if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0)
        throw_errno(std::string("read the definition of map ") + map, errno);
    return info.max_entries;
}

// The "memlock:" line of an fd's fdinfo: the kernel's count of the map's memory.
std::uint64_t memlock_of(int fd)
{
    std::ifstream info("/proc/self/fdinfo/" + std::to_string(fd));
    for (std::string line; std::getline(info, line);)
        if (line.rfind("memlock:", 0) == 0)
            return std::stoull(line.substr(8));
    throw Error("no memlock line in the fdinfo of a map (fd " + std::to_string(fd) + ")");
}

void check_one(const char *flag, const std::optional<std::uint32_t> &asked, std::uint32_t has, const std::string &root)
{
    if (asked && *asked != has)
        throw Error("the datapath at " + root + " is up with " + flag + " " + std::to_string(has) +
                    ": tables cannot be resized in place; `flatpath down` and `flatpath up " + flag + " " +
                    std::to_string(*asked) + "` (tracked flows are lost)");
}

} // namespace

std::optional<std::uint32_t> TableSizes::max_entries_of(const std::string &map) const
{
    if (map == FP_MAP_ENDPOINTS)
        return endpoints;
    if (map == FP_MAP_DNAT || map == FP_MAP_BACKENDS)
        return ports;
    if (map == FP_MAP_MARKS)
        return marks;
    if (map == FP_MAP_CT || map == FP_MAP_CT_NEW)
        return flows * 2; // one entry per direction
    return std::nullopt;
}

TableSizes TableSizeRequest::applied_to(TableSizes base) const
{
    base.endpoints = endpoints.value_or(base.endpoints);
    base.ports = ports.value_or(base.ports);
    base.marks = marks.value_or(base.marks);
    base.flows = flows.value_or(base.flows);
    return base;
}

void TableSizeRequest::check_matches(const TableSizes &up, const std::string &root) const
{
    check_one("--max-endpoints", endpoints, up.endpoints, root);
    check_one("--max-ports", ports, up.ports, root);
    check_one("--max-marks", marks, up.marks, root);
    check_one("--max-flows", flows, up.flows, root);
}

TableSizes pinned_table_sizes(const PinRoot &root)
{
    TableSizes s;
    s.endpoints = max_entries(root, FP_MAP_ENDPOINTS);
    s.ports = max_entries(root, FP_MAP_DNAT);
    s.marks = max_entries(root, FP_MAP_MARKS);
    s.flows = max_entries(root, FP_MAP_CT) / 2;
    return s;
}

std::uint64_t pinned_map_memory(const PinRoot &root)
{
    std::uint64_t total = 0;
    for (const char *name : all_map_names())
        total += memlock_of(MapFd::open_pinned(root.map_path(name)).get());
    return total;
}

} // namespace fp

#include "map_fd.hpp"

#include <bpf/bpf.h>
#include <fcntl.h>

#include <cerrno>

#include "error.hpp"

namespace fp {

MapFd MapFd::open_pinned(const std::string &path)
{
    const int fd = bpf_obj_get(path.c_str());
    if (fd < 0)
        throw_errno("open pinned map " + path, errno);
    return MapFd(fd);
}

MapFd MapFd::dup_of(int fd)
{
    const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0)
        throw_errno("duplicate map fd", errno);
    return MapFd(copy);
}

void MapFd::expect_layout(const std::string &name, std::uint32_t key_size, std::uint32_t value_size) const
{
    bpf_map_info info{};
    __u32 len = sizeof info;
    if (bpf_obj_get_info_by_fd(fd_.get(), &info, &len) != 0)
        throw_errno("inspect map " + name, errno);
    if (info.key_size != key_size || info.value_size != value_size)
        throw Error("map " + name + " has key/value sizes " + std::to_string(info.key_size) + "/" +
                    std::to_string(info.value_size) + ", this build expects " + std::to_string(key_size) +
                    "/" + std::to_string(value_size) + ": it was made by another version of flatpath");
}

} // namespace fp

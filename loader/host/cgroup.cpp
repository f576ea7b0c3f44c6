#include "cgroup.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <string>

#include "error.hpp"

namespace fp {

namespace {

// The first cgroup2 mount of its hierarchy's root, "" for none.
std::string cgroup2_mount()
{
    // mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS... - FSTYPE SOURCE SUPEROPTIONS
    std::ifstream in("/proc/self/mountinfo");
    for (std::string line; std::getline(in, line);) {
        const std::size_t dash = line.find(" - ");
        if (dash == std::string::npos || line.compare(dash + 3, 8, "cgroup2 ") != 0)
            continue;
        std::istringstream fields(line.substr(0, dash));
        std::string id, parent, dev, root, mountpoint;
        if (fields >> id >> parent >> dev >> root >> mountpoint && root == "/")
            return mountpoint;
    }
    return "";
}

UniqueFd open_dir(const std::string &path)
{
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0)
        throw_errno("open the cgroup2 root " + path, errno);
    return fd;
}

} // namespace

UniqueFd open_cgroup2_root()
{
    if (const std::string mounted = cgroup2_mount(); !mounted.empty())
        return open_dir(mounted);
    char dir[] = "/run/flatpath-cgroup2.XXXXXX";
    if (!::mkdtemp(dir))
        throw_errno("create a directory to mount cgroup2 on", errno);
    if (::mount("cgroup2", dir, "cgroup2", 0, nullptr) != 0) {
        const int err = errno;
        ::rmdir(dir);
        throw_errno("mount cgroup2 (none is mounted here)", err);
    }
    UniqueFd fd;
    try {
        fd = open_dir(dir);
    } catch (...) {
        ::umount2(dir, MNT_DETACH);
        ::rmdir(dir);
        throw;
    }
    ::umount2(dir, MNT_DETACH); // the open fd keeps the hierarchy's root
    ::rmdir(dir);
    return fd;
}

} // namespace fp

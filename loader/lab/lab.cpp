#include "lab.hpp"

#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "command.hpp"
#include "error.hpp"

namespace fp {

std::string lab_prefix(const std::string &tag)
{
    return "fp" + std::to_string(::getpid()) + tag;
}

Lab::Lab(const std::string &tag) : prefix_(lab_prefix(tag))
{
    std::string dir = "/run/flatpath-" + prefix_ + ".XXXXXX";
    if (!::mkdtemp(dir.data()))
        throw_errno("create " + dir, errno);
    // A bpffs instance of our own: pins made here are invisible to (and safe from) any
    // real installation, and vanish with the unmount. /run, unlike /sys, stays visible
    // under `ip netns exec`.
    if (::mount("bpf", dir.c_str(), "bpf", 0, nullptr) != 0) {
        const int err = errno;
        ::rmdir(dir.c_str());
        throw_errno("mount a bpf filesystem on " + dir, err);
    }
    bpffs_dir_ = dir;
    pin_root_ = dir + "/flatpath";
}

Lab::~Lab()
{
    for (auto it = namespaces_.rbegin(); it != namespaces_.rend(); ++it)
        run_command({"ip", "netns", "del", *it});
    ::umount2(bpffs_dir_.c_str(), MNT_DETACH);
    ::rmdir(bpffs_dir_.c_str());
}

std::string Lab::add_netns(const std::string &short_name)
{
    const std::string name = prefix_ + "-" + short_name;
    run_checked({"ip", "netns", "add", name});
    namespaces_.push_back(name);
    in(name, {"ip", "link", "set", "lo", "up"});
    return name;
}

void Lab::add_veth(const std::string &ns_a, const std::string &if_a, const MacAddr &mac_a, const std::string &ns_b,
                   const std::string &if_b, const MacAddr &mac_b)
{
    // Created directly inside the namespaces: the names never exist in the machine's own.
    run_checked({"ip", "link", "add", if_a, "netns", ns_a, "address", mac_a.str(), "type", "veth", "peer", "name",
                 if_b, "netns", ns_b, "address", mac_b.str()});
    in(ns_a, {"ip", "link", "set", if_a, "up"});
    in(ns_b, {"ip", "link", "set", if_b, "up"});
}

std::string Lab::in(const std::string &ns, const std::vector<std::string> &argv) const
{
    std::vector<std::string> full = {"ip", "netns", "exec", ns};
    full.insert(full.end(), argv.begin(), argv.end());
    return run_checked(full);
}

} // namespace fp

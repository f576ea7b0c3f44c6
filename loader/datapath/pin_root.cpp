#include "pin_root.hpp"

#include <linux/magic.h>
#include <spdlog/spdlog.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>

#include "error.hpp"
#include "flatpath_abi.h"

namespace fp {

PinRoot PinRoot::resolve(const std::string &flag_value)
{
    if (!flag_value.empty())
        return PinRoot(flag_value);
    if (const char *env = std::getenv(FP_PIN_ROOT_ENV); env && *env)
        return PinRoot(env);
    return PinRoot(FP_PIN_ROOT_DEFAULT);
}

std::string PinRoot::progs_dir() const
{
    return path_ + "/" + FP_PIN_PROGS_DIR;
}

std::string PinRoot::prog_path(const char *prog_name) const
{
    return progs_dir() + "/" + prog_name;
}

namespace {

constexpr const char *kBpffsHome = "/sys/fs/bpf";

bool is_bpffs(const std::string &dir)
{
    struct statfs fs{};
    if (::statfs(dir.c_str(), &fs) != 0)
        throw_errno("pin root parent " + dir, errno);
    return static_cast<unsigned long>(fs.f_type) == BPF_FS_MAGIC;
}

} // namespace

std::string PinRoot::parent() const
{
    return std::filesystem::path(path_).parent_path().string();
}

bool PinRoot::bpffs_usable() const
{
    const std::string parent = this->parent();
    return parent == kBpffsHome || is_bpffs(parent);
}

void PinRoot::ensure_bpffs() const
{
    const std::string parent = this->parent();
    if (is_bpffs(parent))
        return;
    if (parent != kBpffsHome)
        throw Error(parent + " is not a bpf filesystem (mount it with: mount -t bpf bpf " + parent + ")");
    if (::mount("bpf", kBpffsHome, "bpf", 0, "mode=0700") != 0)
        throw_errno(std::string("mount a bpf filesystem on ") + kBpffsHome, errno);
    spdlog::warn("{} was not a bpf filesystem: mounted one there (mount -t bpf bpf {})", kBpffsHome, kBpffsHome);
}

bool PinRoot::is_up() const
{
    struct stat st{};
    return ::stat(progs_dir().c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

} // namespace fp

#include "pin_root.hpp"

#include <linux/magic.h>
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

void PinRoot::require_bpffs() const
{
    const std::string parent = std::filesystem::path(path_).parent_path().string();
    struct statfs fs{};
    if (::statfs(parent.c_str(), &fs) != 0)
        throw_errno("pin root parent " + parent, errno);
    if (static_cast<unsigned long>(fs.f_type) != BPF_FS_MAGIC)
        throw Error(parent + " is not a bpf filesystem (mount it with: mount -t bpf bpf " + parent + ")");
}

bool PinRoot::is_up() const
{
    struct stat st{};
    return ::stat(progs_dir().c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

} // namespace fp

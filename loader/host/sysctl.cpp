#include "sysctl.hpp"

#include <algorithm>
#include <cerrno>
#include <fstream>

#include "error.hpp"

namespace fp {

namespace {

// sysctl(8)'s rule: a name with a slash uses slashes as separators, and its dots are
// literal; otherwise dots separate.
std::string path_of(std::string name)
{
    if (name.find('/') == std::string::npos)
        std::replace(name.begin(), name.end(), '.', '/');
    return "/proc/sys/" + name;
}

} // namespace

std::string sysctl_read(const std::string &name)
{
    std::ifstream in(path_of(name));
    std::string value;
    if (!(in >> value))
        throw_errno("read sysctl " + name, errno ? errno : ENOENT);
    return value;
}

std::string conf_sysctl(const std::string &family, const std::string &dev, const std::string &key)
{
    return "net/" + family + "/conf/" + dev + "/" + key;
}

void sysctl_write(const std::string &name, const std::string &value)
{
    std::ofstream out(path_of(name));
    if (!(out << value << "\n") || !out.flush())
        throw_errno("write sysctl " + name, errno ? errno : EIO);
}

} // namespace fp

#include "file_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>

#include <cerrno>

#include "error.hpp"

namespace fp {

namespace {

UniqueFd open_or_throw(const std::string &path, int flags, mode_t mode, const std::string &hint)
{
    UniqueFd fd(::open(path.c_str(), flags | O_CLOEXEC, mode));
    if (fd.get() < 0)
        throw_errno("open " + path + hint, errno);
    return fd;
}

// True when locked, false when another holder has it (non-blocking only).
bool lock(const UniqueFd &fd, const std::string &path, bool wait)
{
    while (::flock(fd.get(), LOCK_EX | (wait ? 0 : LOCK_NB)) != 0) {
        if (!wait && errno == EWOULDBLOCK)
            return false;
        if (errno != EINTR)
            throw_errno("lock " + path, errno);
    }
    return true;
}

} // namespace

FileLock FileLock::on_directory(const std::string &dir, const std::string &hint)
{
    UniqueFd fd = open_or_throw(dir, O_RDONLY | O_DIRECTORY, 0, hint);
    lock(fd, dir, true);
    return FileLock(std::move(fd));
}

FileLock FileLock::on_file(const std::string &path, mode_t mode)
{
    UniqueFd fd = open_or_throw(path, O_RDWR | O_CREAT, mode, "");
    lock(fd, path, true);
    return FileLock(std::move(fd));
}

std::optional<FileLock> FileLock::try_on_file(const std::string &path, mode_t mode)
{
    UniqueFd fd = open_or_throw(path, O_RDWR | O_CREAT, mode, "");
    if (!lock(fd, path, false))
        return std::nullopt;
    return FileLock(std::move(fd));
}

} // namespace fp

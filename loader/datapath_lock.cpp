#include "datapath_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>

#include "error.hpp"

namespace fp {

DirectoryLock::DirectoryLock(const std::string &dir, const std::string &hint)
{
    fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd_ < 0)
        throw_errno("open " + dir + hint, errno);
    while (::flock(fd_, LOCK_EX) != 0) {
        if (errno != EINTR) {
            const int err = errno;
            ::close(fd_);
            throw_errno("lock " + dir, err);
        }
    }
}

DirectoryLock::~DirectoryLock()
{
    ::close(fd_); // releases the lock
}

} // namespace fp

#include "datapath_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>

#include "error.hpp"

namespace fp {

// bpffs only holds BPF objects, so the lock is taken on the pin root directory itself.
DatapathLock::DatapathLock(const PinRoot &root)
{
    fd_ = ::open(root.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd_ < 0)
        throw_errno("open pin root " + root.path() + " (is the datapath up? run: flatpath up)", errno);
    while (::flock(fd_, LOCK_EX) != 0) {
        if (errno != EINTR) {
            const int err = errno;
            ::close(fd_);
            throw_errno("lock " + root.path(), err);
        }
    }
}

DatapathLock::~DatapathLock()
{
    ::close(fd_); // releases the lock
}

} // namespace fp

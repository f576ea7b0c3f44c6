#include "netns_scope.hpp"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "error.hpp"

namespace fp {

NetnsScope::NetnsScope(const std::string &netns)
{
    home_fd_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (home_fd_ < 0)
        throw_errno("open this thread's network namespace", errno);
    const std::string path = "/run/netns/" + netns;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) {
        const int err = errno;
        if (fd >= 0)
            ::close(fd);
        ::close(home_fd_);
        throw_errno("enter network namespace " + netns, err);
    }
    ::close(fd);
}

NetnsScope::~NetnsScope()
{
    if (::setns(home_fd_, CLONE_NEWNET) != 0)
        std::perror("flatpath: return to the thread's own network namespace");
    ::close(home_fd_);
}

Socket socket_in_netns(const std::string &netns, int domain, int type, int protocol)
{
    NetnsScope in(netns);
    return Socket(::socket(domain, type | SOCK_CLOEXEC, protocol));
}

} // namespace fp

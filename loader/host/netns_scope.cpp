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
    home_.reset(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    if (home_.get() < 0)
        throw_errno("open this thread's network namespace", errno);
    const std::string path = netns.starts_with('/') ? netns : "/run/netns/" + netns;
    const UniqueFd there(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (there.get() < 0 || ::setns(there.get(), CLONE_NEWNET) != 0)
        throw_errno("enter network namespace " + netns, errno);
}

NetnsScope::~NetnsScope()
{
    if (::setns(home_.get(), CLONE_NEWNET) != 0)
        std::perror("flatpath: return to the thread's own network namespace");
}

Socket socket_in_netns(const std::string &netns, int domain, int type, int protocol)
{
    NetnsScope in(netns);
    return Socket(::socket(domain, type | SOCK_CLOEXEC, protocol));
}

Socket bound_socket_in_netns(const std::string &netns, const IpAddr &addr, std::uint16_t port, int type)
{
    NetnsScope in(netns);
    return bound_socket(addr, port, type);
}

} // namespace fp

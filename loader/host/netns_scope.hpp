// The calling thread inside a network namespace (a name under /run/netns, or a path such
// as a container's SandboxKey or /proc/PID/ns/net) until the scope ends, for
// the kernel calls the bench and the tests make from there (attaching a sink, test
// runs that name a device, sockets that live on in that namespace): sockets and
// ifindexes are per namespace.
#pragma once

#include <string>

#include "sockets.hpp"
#include "unique_fd.hpp"

namespace fp {

class NetnsScope {
public:
    explicit NetnsScope(const std::string &netns);
    NetnsScope(const NetnsScope &) = delete;
    NetnsScope &operator=(const NetnsScope &) = delete;
    ~NetnsScope(); // back to the namespace the thread was in

private:
    UniqueFd home_; // the namespace the thread came from
};

// A socket made in netns: it lives on there, whichever thread uses it.
Socket socket_in_netns(const std::string &netns, int domain, int type, int protocol = 0);
// A socket of `type` made in netns and bound there to addr:port (bound_socket's, there).
Socket bound_socket_in_netns(const std::string &netns, const IpAddr &addr, std::uint16_t port, int type);

} // namespace fp

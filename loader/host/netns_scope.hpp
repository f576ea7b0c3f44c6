// The calling thread inside a named network namespace until the scope ends, for
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

} // namespace fp

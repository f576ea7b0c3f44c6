// The calling thread inside a named network namespace until the scope ends, for
// the kernel calls the bench and the tests make from there (attaching a sink, test
// runs that name a device, sockets that live on in that namespace): sockets and
// ifindexes are per namespace.
#pragma once

#include <string>

namespace fp {

class NetnsScope {
public:
    explicit NetnsScope(const std::string &netns);
    NetnsScope(const NetnsScope &) = delete;
    NetnsScope &operator=(const NetnsScope &) = delete;
    ~NetnsScope(); // back to the namespace the thread was in

private:
    int home_fd_ = -1;
};

} // namespace fp

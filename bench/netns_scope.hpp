// The calling thread inside a named network namespace until the scope ends, for
// the few kernel calls the bench must make from there (attaching its sink, test
// runs that name a device): sockets and ifindexes are per namespace.
#pragma once

#include <string>

namespace fp::bench {

class NetnsScope {
public:
    explicit NetnsScope(const std::string &netns);
    NetnsScope(const NetnsScope &) = delete;
    NetnsScope &operator=(const NetnsScope &) = delete;
    ~NetnsScope(); // back to the namespace the thread was in

private:
    int home_fd_ = -1;
};

} // namespace fp::bench

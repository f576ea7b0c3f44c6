// A server program (iperf3, sockperf) running in a namespace for as long as this
// object lives: started with `ip netns exec`, stopped with SIGTERM and reaped on
// destruction, also when a measurement failed.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace fp::bench {

class ServerProcess {
public:
    ServerProcess(const std::string &netns, const std::vector<std::string> &argv);
    ServerProcess(const ServerProcess &) = delete;
    ServerProcess &operator=(const ServerProcess &) = delete;
    ~ServerProcess();

private:
    pid_t pid_ = -1;
};

} // namespace fp::bench

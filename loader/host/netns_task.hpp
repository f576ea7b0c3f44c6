// Runs a function in a child process that has joined a network namespace (a name
// under /run/netns, or a path such as a container's /proc/PID/ns/net), and hands
// back what it returned (or the error it threw). The demo and the tests use it for
// real sockets on either side of the datapath; the daemon to look into containers.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>

#include "unique_fd.hpp"

namespace fp {

class NetnsTask {
public:
    NetnsTask(const std::string &netns, std::function<std::string()> fn);
    NetnsTask(const NetnsTask &) = delete;
    NetnsTask &operator=(const NetnsTask &) = delete;
    ~NetnsTask(); // kills the child if its result was never collected

    // Waits for the child; returns fn's result or throws fp::Error with its error.
    std::string result();

private:
    pid_t pid_ = -1;
    UniqueFd fd_; // the child's result
};

// Runs fn inside netns and waits for it.
std::string run_in_netns(const std::string &netns, std::function<std::string()> fn);

} // namespace fp

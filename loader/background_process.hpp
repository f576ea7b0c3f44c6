// A program running in the background for as long as this object lives (a server
// for the bench, Podman's API service for the tests): started with fork/exec, its
// output discarded, stopped with SIGTERM and reaped on destruction, also when the
// code that started it failed.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace fp {

class BackgroundProcess {
public:
    explicit BackgroundProcess(const std::vector<std::string> &argv);
    BackgroundProcess(const BackgroundProcess &) = delete;
    BackgroundProcess &operator=(const BackgroundProcess &) = delete;
    ~BackgroundProcess();

private:
    pid_t pid_ = -1;
};

} // namespace fp

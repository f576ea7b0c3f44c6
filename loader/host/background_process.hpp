// A program running in the background for as long as this object lives (a server
// for the bench, Podman's API service and the daemon for the tests): started with
// fork/exec, its output discarded or appended to a log file, stopped with SIGTERM and
// reaped on destruction, also when the code that started it failed.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace fp {

class BackgroundProcess {
public:
    // log: a file its stdout and stderr are appended to ("" to discard them).
    explicit BackgroundProcess(const std::vector<std::string> &argv, const std::string &log = "");
    BackgroundProcess(const BackgroundProcess &) = delete;
    BackgroundProcess &operator=(const BackgroundProcess &) = delete;
    ~BackgroundProcess(); // stop(SIGTERM) unless it was stopped already

    // Sends sig and reaps the process: its exit status, or 128 + the signal that ended it.
    int stop(int sig);
    // True until the process has exited (it is reaped then).
    bool running();

private:
    pid_t pid_ = -1;
    int exit_status_ = -1;
};

} // namespace fp

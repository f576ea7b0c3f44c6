// Running another program (ip, ethtool, ping, flatpath itself) and capturing
// what it printed. Used by the demo and the tests to build and drive their
// namespaces; the datapath code itself never runs programs.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace fp {

struct CommandResult {
    int status = -1; // exit code; 128 + signal when killed
    std::string output; // stdout and stderr, interleaved
};

// input, when given, is written to the command's stdin (then closed).
CommandResult run_command(const std::vector<std::string> &argv, const std::string *input = nullptr);
// Throws fp::Error with the command line and its output when it does not exit 0.
std::string run_checked(const std::vector<std::string> &argv, const std::string *input = nullptr);
std::string command_line(const std::vector<std::string> &argv);

// A waitpid status as a shell reports it: the exit code, or 128 + the signal that ended it.
int exit_status(int wait_status);
// Reaps pid (retrying on EINTR) and returns its exit_status().
int wait_for_exit(pid_t pid);

} // namespace fp

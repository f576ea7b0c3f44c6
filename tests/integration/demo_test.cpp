// The README's first command: `flatpath demo` passes, and leaves no namespace,
// bpffs mount or directory behind, also when interrupted with Ctrl-C midway.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "command.hpp"
#include "lab.hpp"

namespace fp::test {
namespace {

// Starts `flatpath demo` in a process group of its own (as a shell would) and returns its pid.
pid_t start_demo()
{
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::setpgid(0, 0);
        const int devnull = ::open("/dev/null", O_WRONLY);
        ::dup2(devnull, STDOUT_FILENO);
        ::dup2(devnull, STDERR_FILENO);
        ::execl(FLATPATH_BIN, FLATPATH_BIN, "demo", "--tcp-bytes", "1048576", static_cast<char *>(nullptr));
        ::_exit(127);
    }
    return pid;
}

// Whatever of the demo run `pid` is still on the machine.
std::string leftovers(pid_t pid)
{
    const std::string prefix = "fp" + std::to_string(pid) + "d";
    std::string found;
    const std::string netns = run_checked({"ip", "netns", "list"});
    if (netns.find(prefix + "-") != std::string::npos)
        found += "namespaces: " + netns;
    std::ifstream mounts("/proc/mounts");
    for (std::string line; std::getline(mounts, line);)
        if (line.find("/run/flatpath-" + prefix) != std::string::npos)
            found += "mount: " + line + "\n";
    if (run_command({"sh", "-c", "ls -d /run/flatpath-" + prefix + ".*"}).status == 0)
        found += "directory /run/flatpath-" + prefix + ".*\n";
    return found;
}

TEST(DemoTest, PassesAndLeavesNothing)
{
    const pid_t pid = start_demo();
    EXPECT_EQ(wait_for_exit(pid), 0);
    EXPECT_EQ(leftovers(pid), "");
}

TEST(DemoTest, CtrlCMidwayLeavesNothing)
{
    for (int ms : {300, 900}) {
        const pid_t pid = start_demo();
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
        ::kill(-pid, SIGINT); // the whole group, as a terminal's Ctrl-C does
        EXPECT_NE(wait_for_exit(pid), 0) << "interrupted after " << ms << " ms";
        EXPECT_EQ(leftovers(pid), "") << "interrupted after " << ms << " ms";
    }
}

} // namespace
} // namespace fp::test

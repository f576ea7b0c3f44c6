#include "server_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "error.hpp"

namespace fp::bench {

ServerProcess::ServerProcess(const std::string &netns, const std::vector<std::string> &argv)
{
    std::vector<std::string> full = {"ip", "netns", "exec", netns};
    full.insert(full.end(), argv.begin(), argv.end());
    std::vector<char *> args;
    for (std::string &a : full)
        args.push_back(a.data());
    args.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ < 0)
        throw_errno("fork for " + argv.front(), errno);
    if (pid_ == 0) {
        const int null = ::open("/dev/null", O_RDWR); // servers chatter; the client reports
        ::dup2(null, 1);
        ::dup2(null, 2);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
}

ServerProcess::~ServerProcess()
{
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
}

} // namespace fp::bench

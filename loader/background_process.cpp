#include "background_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "error.hpp"

namespace fp {

BackgroundProcess::BackgroundProcess(const std::vector<std::string> &argv)
{
    std::vector<std::string> full = argv;
    std::vector<char *> args;
    for (std::string &a : full)
        args.push_back(a.data());
    args.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ < 0)
        throw_errno("fork for " + argv.front(), errno);
    if (pid_ == 0) {
        const int null = ::open("/dev/null", O_RDWR); // servers chatter; their clients report
        ::dup2(null, 1);
        ::dup2(null, 2);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
}

BackgroundProcess::~BackgroundProcess()
{
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
}

} // namespace fp

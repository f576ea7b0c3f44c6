#include "background_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "command.hpp"
#include "error.hpp"

namespace fp {

BackgroundProcess::BackgroundProcess(const std::vector<std::string> &argv, const std::string &log)
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
        // Servers chatter; their clients report. A log is kept when asked for.
        const int out = log.empty() ? ::open("/dev/null", O_RDWR) : ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        ::dup2(out, 1);
        ::dup2(out, 2);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
}

BackgroundProcess::~BackgroundProcess()
{
    if (pid_ > 0)
        stop(SIGTERM);
}

int BackgroundProcess::stop(int sig)
{
    if (pid_ <= 0)
        return exit_status_;
    ::kill(pid_, sig);
    exit_status_ = wait_for_exit(pid_);
    pid_ = -1;
    return exit_status_;
}

bool BackgroundProcess::running()
{
    if (pid_ <= 0)
        return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) != pid_)
        return true;
    pid_ = -1;
    exit_status_ = exit_status(status);
    return false;
}

} // namespace fp

#include "netns_task.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <exception>

#include "error.hpp"

namespace fp {

namespace {

void write_all(int fd, const std::string &s)
{
    std::size_t off = 0;
    while (off < s.size()) {
        const ssize_t n = ::write(fd, s.data() + off, s.size() - off);
        if (n <= 0 && errno != EINTR)
            return;
        if (n > 0)
            off += static_cast<std::size_t>(n);
    }
}

} // namespace

NetnsTask::NetnsTask(const std::string &netns, std::function<std::string()> fn)
{
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0)
        throw_errno("pipe", errno);
    pid_ = ::fork();
    if (pid_ < 0)
        throw_errno("fork", errno);
    if (pid_ == 0) {
        ::close(pipefd[0]);
        std::string out;
        try {
            const std::string path = netns.starts_with('/') ? netns : "/run/netns/" + netns;
            const int nsfd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
            if (nsfd < 0 || ::setns(nsfd, CLONE_NEWNET) != 0)
                throw_errno("enter network namespace " + netns, errno);
            out = "OK" + fn();
        } catch (const std::exception &e) {
            out = std::string("ER") + e.what();
        }
        write_all(pipefd[1], out);
        ::_exit(0);
    }
    ::close(pipefd[1]);
    fd_ = pipefd[0];
}

NetnsTask::~NetnsTask()
{
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    if (fd_ >= 0)
        ::close(fd_);
}

std::string NetnsTask::result()
{
    std::string out;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fd_, buf, sizeof buf);
        if (n > 0)
            out.append(buf, static_cast<std::size_t>(n));
        else if (n == 0 || errno != EINTR)
            break;
    }
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
    if (out.rfind("OK", 0) == 0)
        return out.substr(2);
    if (out.rfind("ER", 0) == 0)
        throw Error(out.substr(2));
    throw Error("the task in a network namespace died without a result");
}

std::string run_in_netns(const std::string &netns, std::function<std::string()> fn)
{
    NetnsTask task(netns, std::move(fn));
    return task.result();
}

} // namespace fp

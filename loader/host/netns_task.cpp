#include "netns_task.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <exception>

#include "error.hpp"
#include "netns_scope.hpp"
#include "pipe.hpp"

namespace fp {

NetnsTask::NetnsTask(const std::string &netns, std::function<std::string()> fn)
{
    Pipe result = open_pipe();
    pid_ = ::fork();
    if (pid_ < 0)
        throw_errno("fork", errno);
    if (pid_ == 0) {
        result.read.reset();
        std::string out;
        try {
            const NetnsScope in(netns);
            out = "OK" + fn();
        } catch (const std::exception &e) {
            out = std::string("ER") + e.what();
        }
        write_all(result.write.get(), out);
        ::_exit(0);
    }
    fd_ = std::move(result.read);
}

NetnsTask::~NetnsTask()
{
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
}

std::string NetnsTask::result()
{
    const std::string out = read_all(fd_.get());
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

#include "command.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include "error.hpp"

namespace fp {

std::string command_line(const std::vector<std::string> &argv)
{
    std::string line;
    for (const auto &a : argv)
        line += (line.empty() ? "" : " ") + a;
    return line;
}

CommandResult run_command(const std::vector<std::string> &argv, const std::string *input)
{
    int pipefd[2];
    int infd[2] = {-1, -1};
    if (::pipe2(pipefd, O_CLOEXEC) != 0 || (input && ::pipe2(infd, O_CLOEXEC) != 0))
        throw_errno("pipe", errno);
    const pid_t pid = ::fork();
    if (pid < 0)
        throw_errno("fork", errno);
    if (pid == 0) {
        ::dup2(pipefd[1], STDOUT_FILENO);
        ::dup2(pipefd[1], STDERR_FILENO);
        if (input)
            ::dup2(infd[0], STDIN_FILENO);
        std::vector<char *> args;
        for (const auto &a : argv)
            args.push_back(const_cast<char *>(a.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    ::close(pipefd[1]);
    if (input) {
        // The child may stop reading early (and exit): a broken pipe is its answer, not ours.
        ::close(infd[0]);
        std::signal(SIGPIPE, SIG_IGN);
        for (std::size_t off = 0; off < input->size();) {
            const ssize_t n = ::write(infd[1], input->data() + off, input->size() - off);
            if (n <= 0)
                break;
            off += static_cast<std::size_t>(n);
        }
        ::close(infd[1]);
    }
    CommandResult r;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(pipefd[0], buf, sizeof buf);
        if (n > 0)
            r.output.append(buf, static_cast<std::size_t>(n));
        else if (n == 0 || errno != EINTR)
            break;
    }
    ::close(pipefd[0]);
    r.status = wait_for_exit(pid);
    return r;
}

int exit_status(int wait_status)
{
    return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
}

int wait_for_exit(pid_t pid)
{
    int wstatus = 0;
    while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
    return exit_status(wstatus);
}

std::string run_checked(const std::vector<std::string> &argv, const std::string *input)
{
    CommandResult r = run_command(argv, input);
    if (r.status != 0) {
        while (!r.output.empty() && r.output.back() == '\n')
            r.output.pop_back();
        throw Error("'" + command_line(argv) + "' exited " + std::to_string(r.status) +
                    (r.output.empty() ? "" : ": " + r.output));
    }
    return r.output;
}

} // namespace fp

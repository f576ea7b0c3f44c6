#include "command.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "error.hpp"
#include "joined.hpp"
#include "pipe.hpp"

namespace fp {

std::string command_line(const std::vector<std::string> &argv)
{
    return joined(argv, " ");
}

CommandResult run_command(const std::vector<std::string> &argv, const std::string *input)
{
    Pipe out = open_pipe();
    Pipe in = input ? open_pipe() : Pipe{};
    const pid_t pid = ::fork();
    if (pid < 0)
        throw_errno("fork", errno);
    if (pid == 0) {
        ::dup2(out.write.get(), STDOUT_FILENO);
        ::dup2(out.write.get(), STDERR_FILENO);
        if (input)
            ::dup2(in.read.get(), STDIN_FILENO);
        std::vector<char *> args;
        for (const auto &a : argv)
            args.push_back(const_cast<char *>(a.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    out.write.reset();
    if (input) {
        in.read.reset();
        write_all(in.write.get(), *input); // the child may stop reading early (and exit)
        in.write.reset();
    }
    CommandResult r;
    r.output = read_all(out.read.get());
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

#include "delegate.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>

#include "cni_error.hpp"

namespace fp::cni {

namespace {

std::string find_plugin(const Request &req, const std::string &type)
{
    if (type.empty() || type.find('/') != std::string::npos)
        throw CniError(ErrorCode::InvalidConfig, "\"ipam\" needs a plugin \"type\" (a name, not a path)");
    for (const std::string &dir : req.path) {
        const std::string p = dir + "/" + type;
        if (::access(p.c_str(), X_OK) == 0)
            return p;
    }
    throw CniError(ErrorCode::InvalidConfig, "IPAM plugin " + type + " is not in CNI_PATH");
}

} // namespace

nlohmann::json delegate(const Request &req, const std::string &type, const std::string &command)
{
    const std::string path = find_plugin(req, type);
    std::vector<std::string> env = {"CNI_COMMAND=" + command, "CNI_CONTAINERID=" + req.container_id,
                                    "CNI_NETNS=" + req.netns, "CNI_IFNAME=" + req.ifname};
    std::string args, cni_path;
    for (const auto &[k, v] : req.args)
        args += (args.empty() ? "" : ";") + k + "=" + v;
    for (const auto &d : req.path)
        cni_path += (cni_path.empty() ? "" : ":") + d;
    env.push_back("CNI_ARGS=" + args);
    env.push_back("CNI_PATH=" + cni_path);

    int out[2], in[2];
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(in, O_CLOEXEC) != 0)
        throw CniError(ErrorCode::IoFailure, "pipe", std::strerror(errno));
    const pid_t pid = ::fork();
    if (pid < 0)
        throw CniError(ErrorCode::IoFailure, "fork", std::strerror(errno));
    if (pid == 0) {
        ::dup2(in[0], STDIN_FILENO);
        ::dup2(out[1], STDOUT_FILENO); // stderr stays ours: the plugin's messages reach the runtime's log
        std::vector<char *> envp;
        for (auto &e : env)
            envp.push_back(e.data());
        envp.push_back(nullptr);
        char *argv[] = {const_cast<char *>(path.c_str()), nullptr};
        ::execve(path.c_str(), argv, envp.data());
        ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    std::signal(SIGPIPE, SIG_IGN);
    const std::string config = req.config.dump();
    for (std::size_t off = 0; off < config.size();) {
        const ssize_t n = ::write(in[1], config.data() + off, config.size() - off);
        if (n <= 0)
            break;
        off += static_cast<std::size_t>(n);
    }
    ::close(in[1]);
    std::string output;
    char buf[4096];
    for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) != 0;) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        output.append(buf, static_cast<std::size_t>(n));
    }
    ::close(out[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    nlohmann::json j;
    if (!output.empty()) {
        try {
            j = nlohmann::json::parse(output);
        } catch (const std::exception &) {
            throw CniError(ErrorCode::DecodeFailure, "IPAM plugin " + type + " " + command + " printed no JSON", output);
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        const int code = j.is_object() ? j.value("code", 5) : 5;
        const std::string msg = j.is_object() ? j.value("msg", std::string("failed")) : std::string("failed");
        throw CniError(static_cast<ErrorCode>(code), "IPAM plugin " + type + " " + command + ": " + msg,
                       j.is_object() ? j.value("details", std::string()) : std::string());
    }
    return j;
}

} // namespace fp::cni

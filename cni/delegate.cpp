#include "delegate.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "cni_error.hpp"
#include "pipe.hpp"

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

    Pipe out = open_pipe(), in = open_pipe();
    const pid_t pid = ::fork();
    if (pid < 0)
        throw CniError(ErrorCode::IoFailure, "fork", std::strerror(errno));
    if (pid == 0) {
        ::dup2(in.read.get(), STDIN_FILENO);
        ::dup2(out.write.get(), STDOUT_FILENO); // stderr stays ours: the plugin's messages reach the runtime's log
        std::vector<char *> envp;
        for (auto &e : env)
            envp.push_back(e.data());
        envp.push_back(nullptr);
        char *argv[] = {const_cast<char *>(path.c_str()), nullptr};
        ::execve(path.c_str(), argv, envp.data());
        ::_exit(127);
    }
    in.read.reset();
    out.write.reset();
    write_all(in.write.get(), req.config.dump());
    in.write.reset();
    const std::string output = read_all(out.read.get());
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

#include "podman_sandbox.hpp"

#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "command.hpp"
#include "error.hpp"

namespace fp {

namespace fs = std::filesystem;

namespace {

std::string without_trailing_newlines(std::string s)
{
    while (!s.empty() && s.back() == '\n')
        s.pop_back();
    return s;
}

} // namespace

PodmanSandbox::PodmanSandbox(const std::string &netns, Backend backend, const std::vector<std::string> &cni_plugin_dirs)
    : netns_(netns)
{
    char tmpl[] = "/run/flatpath-podman.XXXXXX";
    if (!::mkdtemp(tmpl))
        throw_errno("create a directory for Podman's storage", errno);
    dir_ = tmpl;
    for (const char *d : {"net.d", "root", "run", "rootfs/bin", "rootfs/tmp"})
        fs::create_directories(dir_ + "/" + d);
    fs::copy_file("/bin/busybox", dir_ + "/rootfs/bin/busybox");
    for (const char *applet : {"sh", "sleep", "ping", "httpd", "ip", "nc"})
        fs::create_symlink("busybox", dir_ + "/rootfs/bin/" + applet);
    std::string plugin_dirs;
    for (const std::string &d : cni_plugin_dirs)
        plugin_dirs += (plugin_dirs.empty() ? "\"" : ", \"") + d + "\"";
    // default_ulimits: Podman would raise RLIMIT_NOFILE, which is not permitted here; runc:
    // crun fails on these hosts' hybrid cgroups (PLATFORM.md).
    std::ofstream(dir_ + "/containers.conf")
        << "[containers]\ndefault_ulimits = []\n[network]\nnetwork_backend = \""
        << (backend == Backend::Cni ? "cni" : "netavark") << "\"\nnetwork_config_dir = \"" << network_dir()
        << "\"\ncni_plugin_dirs = [" << plugin_dirs << "]\n[engine]\nruntime = \"runc\"\n";
}

PodmanSandbox::~PodmanSandbox()
{
    try {
        run_command(argv({"rm", "-af", "-t", "0"}));
        // conmon starts `podman container cleanup` when a container exits (and netavark
        // leaves aardvark-dns running until its last container goes); one still running
        // would make the storage again after it is removed. Wait for them (bounded).
        for (int i = 0; i < 150 && a_process_names(dir_); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        // Podman may leave mounts under its storage: detach them before removing it.
        run_command({"sh", "-c", "grep -o '" + dir_ + "[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l"});
        fs::remove_all(dir_);
    } catch (...) {
    }
}

std::vector<std::string> PodmanSandbox::argv(const std::vector<std::string> &args) const
{
    std::vector<std::string> a = {"nsenter", "--net=/run/netns/" + netns_, "env", "CONTAINERS_CONF=" + dir_ + "/containers.conf",
                                  "podman", "--root", dir_ + "/root", "--runroot", dir_ + "/run"};
    a.insert(a.end(), args.begin(), args.end());
    return a;
}

std::string PodmanSandbox::run(const std::vector<std::string> &args) const
{
    return run_checked(argv(args));
}

std::string PodmanSandbox::inspect(const std::string &name, const std::string &format) const
{
    return without_trailing_newlines(run({"inspect", "--format", format, name}));
}

std::vector<std::string> PodmanSandbox::run_args(const std::string &name, const std::vector<std::string> &extra,
                                                 const std::vector<std::string> &cmd, const std::string &network) const
{
    std::vector<std::string> a = {"run", "-d", "--name", name, "--network", network};
    a.insert(a.end(), extra.begin(), extra.end());
    a.insert(a.end(), {"--rootfs", rootfs()});
    a.insert(a.end(), cmd.begin(), cmd.end());
    return a;
}

std::string PodmanSandbox::netns_of(const std::string &container) const
{
    const std::string key = inspect(container, "{{.NetworkSettings.SandboxKey}}");
    if (key.rfind("/run/netns/", 0) != 0)
        throw Error("container " + container + " has no namespace under /run/netns (SandboxKey \"" + key + "\")");
    return key.substr(std::string("/run/netns/").size());
}

bool PodmanSandbox::a_process_names(const std::string &text)
{
    for (const auto &e : fs::directory_iterator("/proc")) {
        const std::string pid = e.path().filename().string();
        if (pid.find_first_not_of("0123456789") != std::string::npos || pid == std::to_string(::getpid()))
            continue;
        std::ifstream in(e.path() / "cmdline");
        const std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (cmdline.find(text) != std::string::npos)
            return true;
    }
    return false;
}

} // namespace fp

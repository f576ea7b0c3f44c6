// Real Podman (4.3.1 here) for the tests and the bench, set apart from the machine's own:
// a directory of its own holds the containers.conf, storage, run root, network
// definitions and a busybox root filesystem that containers run from (no registry is
// reachable), and Podman runs inside a namespace of the caller's through nsenter, which
// (unlike `ip netns exec`) keeps /sys and with it the cgroups runc needs. The networks
// Podman makes (bridges, iptables rules, container namespaces) are in that namespace.
// The destructor removes every container and the directory, also after a failure.
#pragma once

#include <string>
#include <vector>

namespace fp {

class PodmanSandbox {
public:
    enum class Backend { Cni, Netavark };

    // cni_plugin_dirs: where the CNI backend looks for plugins, in order.
    PodmanSandbox(const std::string &netns, Backend backend, const std::vector<std::string> &cni_plugin_dirs);
    PodmanSandbox(const PodmanSandbox &) = delete;
    PodmanSandbox &operator=(const PodmanSandbox &) = delete;
    ~PodmanSandbox(); // never throws

    const std::string &dir() const { return dir_; }
    // Podman's network_config_dir: CNI conflists, or netavark's JSON networks.
    std::string network_dir() const { return dir_ + "/net.d"; }
    // `podman run --rootfs` this: busybox with the applets sh, sleep, ping, httpd, ip, nc.
    std::string rootfs() const { return dir_ + "/rootfs"; }

    // The command line of `podman args...` in this sandbox.
    std::vector<std::string> argv(const std::vector<std::string> &args) const;
    // Runs it; throws with Podman's output when it fails. The output is returned.
    std::string run(const std::vector<std::string> &args) const;
    // `podman inspect --format format name`, without the trailing newline.
    std::string inspect(const std::string &name, const std::string &format) const;
    // `podman run -d --name name --network network extra... --rootfs ROOTFS cmd...`.
    std::vector<std::string> run_args(const std::string &name, const std::vector<std::string> &extra,
                                      const std::vector<std::string> &cmd, const std::string &network) const;
    // The name of a running container's network namespace under /run/netns (its SandboxKey).
    std::string netns_of(const std::string &container) const;

    // Whether a process other than this one has text (a sandbox's directory) on its command line.
    static bool a_process_names(const std::string &text);

private:
    std::string netns_;
    std::string dir_;
};

} // namespace fp

// Real Podman 4.3.1 (CNI backend) for the tests: Podman runs inside a namespace of
// the test's (through nsenter, so that cgroups stay visible to runc), with its own
// containers.conf, storage and network directory ("fpnet": flatpath-cni), and
// containers run from a busybox root filesystem: nothing of the machine's Podman
// setup is used. A LAN namespace reaches the host namespace through uplink0.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>

#include "background_process.hpp"
#include "command.hpp"
#include "error.hpp"
#include "eventually.hpp"
#include "lab.hpp"
#include "missing_tool.hpp"
#include "runtime_api.hpp"

namespace fp::test {

namespace fs = std::filesystem;

class PodmanTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        for (const char *tool : {"podman", "runc", "nsenter"})
            FP_REQUIRE_TOOL(run_command({"sh", "-c", std::string("command -v ") + tool}).status == 0, tool);
        FP_REQUIRE_TOOL(fs::exists("/bin/busybox"), "busybox-static");
        lab = std::make_unique<Lab>("p");
        host = lab->add_netns("host");
        lan = lab->add_netns("lan");
        lab->add_veth(lan, "lan0", MacAddr::parse("02:fd:00:00:00:02"), host, "uplink0", MacAddr::parse("02:fd:00:00:00:01"));
        lab->in(lan, {"ip", "addr", "add", "10.65.0.2/24", "dev", "lan0"});
        lab->in(host, {"ip", "addr", "add", "10.65.0.1/24", "dev", "uplink0"});

        char tmpl[] = "/run/flatpath-podman-test.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir = tmpl;
        for (const char *d : {"net.d", "root", "run", "state", "rootfs/bin", "rootfs/tmp", "rootfs/www"})
            fs::create_directories(dir + "/" + d);
        fs::copy_file("/bin/busybox", dir + "/rootfs/bin/busybox");
        for (const char *applet : {"sh", "sleep", "ping", "httpd", "ip", "nc"})
            fs::create_symlink("busybox", dir + "/rootfs/bin/" + applet);
        std::ofstream(dir + "/rootfs/www/index.html") << "hello-from-flatpath\n";
        std::ofstream(dir + "/containers.conf")
            << "[containers]\ndefault_ulimits = []\n[network]\nnetwork_backend = \"cni\"\nnetwork_config_dir = \"" << dir
            << "/net.d\"\ncni_plugin_dirs = [\"" << fs::path(FLATPATH_CNI_BIN).parent_path().string()
            << "\", \"/usr/lib/cni\"]\n[engine]\nruntime = \"runc\"\n";
        const nlohmann::json conflist = {
            {"cniVersion", "1.0.0"},
            {"cniVersions", {"1.0.0", "1.1.0"}},
            {"name", "fpnet"},
            {"plugins",
             {{{"type", "flatpath-cni"},
               {"subnet", "10.66.0.0/24"},
               {"uplinks", {"uplink0"}},
               {"pinRoot", lab->pin_root()},
               {"stateDir", dir + "/state"},
               {"capabilities", {{"portMappings", true}, {"ips", true}, {"mac", true}}}}}}};
        std::ofstream(dir + "/net.d/fpnet.conflist") << conflist.dump(2);
    }

    void TearDown() override
    {
        service.reset();
        if (!lab)
            return;
        run_command(podman_argv({"rm", "-af", "-t", "0"}));
        // conmon starts `podman container cleanup` when a container exits; one still running
        // would make the storage again after it is removed. Wait for them (bounded).
        eventually([&] { return !a_process_names(dir); }, 15);
        // Podman may leave mounts under its storage: detach them before removing it.
        run_command({"sh", "-c", "grep -o '" + dir + "[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l"});
        fs::remove_all(dir);
        lab.reset();
    }

    // Whether any process's command line mentions text (this test's directory).
    static bool a_process_names(const std::string &text)
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

    std::vector<std::string> podman_argv(const std::vector<std::string> &args) const
    {
        std::vector<std::string> argv = {"nsenter", "--net=/run/netns/" + host, "env", "CONTAINERS_CONF=" + dir + "/containers.conf",
                                         "podman", "--root", dir + "/root", "--runroot", dir + "/run"};
        argv.insert(argv.end(), args.begin(), args.end());
        return argv;
    }
    std::string podman(const std::vector<std::string> &args) { return run_checked(podman_argv(args)); }
    // `podman inspect --format format name`, without the trailing newline.
    std::string inspect(const std::string &name, const std::string &format)
    {
        std::string out = podman({"inspect", "--format", format, name});
        while (!out.empty() && out.back() == '\n')
            out.pop_back();
        return out;
    }
    std::vector<std::string> run_args(const std::string &name, const std::vector<std::string> &extra,
                                      const std::vector<std::string> &cmd, const std::string &network = "fpnet")
    {
        std::vector<std::string> a = {"run", "-d", "--name", name, "--network", network};
        a.insert(a.end(), extra.begin(), extra.end());
        a.insert(a.end(), {"--rootfs", dir + "/rootfs"});
        a.insert(a.end(), cmd.begin(), cmd.end());
        return a;
    }
    std::string host_state()
    {
        std::string s = lab->in(host, {"ip", "-br", "link"}) + lab->in(host, {"ip", "route"}) +
                        lab->in(host, {"iptables-save"}) + lab->in(host, {"nft", "list", "ruleset"});
        if (!fs::exists(dir + "/state/ipam"))
            return s;
        for (const auto &e : fs::recursive_directory_iterator(dir + "/state/ipam"))
            if (e.is_regular_file() && e.path().filename() != "lock" &&
                !e.path().filename().string().starts_with("last_reserved"))
                s += "lease " + e.path().filename().string() + "\n";
        return s;
    }

    // A network of the reference plugins, as Podman's default network is: bridge (the
    // gateway on it) + host-local (leases in the test's directory) + portmap.
    nlohmann::json reference_bridge_network(const std::string &name, const std::string &bridge,
                                            const std::string &subnet, const std::string &gateway,
                                            bool ip_masq = false) const
    {
        return {{"cniVersion", "1.0.0"},
                {"name", name},
                {"plugins",
                 {{{"type", "bridge"},
                   {"bridge", bridge},
                   {"isGateway", true},
                   {"ipMasq", ip_masq},
                   {"ipam",
                    {{"type", "host-local"},
                     {"dataDir", dir + "/host-local"},
                     {"routes", {{{"dst", "0.0.0.0/0"}}}},
                     {"ranges", {{{{"subnet", subnet}, {"gateway", gateway}}}}}}}},
                  {{"type", "portmap"}, {"capabilities", {{"portMappings", true}}}}}}};
    }
    void add_network(const nlohmann::json &conflist) const
    {
        std::ofstream(dir + "/net.d/" + conflist["name"].get<std::string>() + ".conflist") << conflist.dump(2);
    }

    // The body a LAN client gets for url, retried until the server listens ("" if never).
    std::string fetch_from_lan(const std::string &url) { return fetch_from(lan, url); }
    // The same for a client in namespace ns.
    std::string fetch_from(const std::string &ns, const std::string &url)
    {
        std::string body;
        eventually([&] {
            const CommandResult r =
                run_command({"ip", "netns", "exec", ns, "timeout", "5", "/bin/busybox", "wget", "-qO-", url});
            body = r.status == 0 ? r.output : "";
            return !body.empty();
        });
        return body;
    }

    // Podman's REST API on the test's socket `sock`, up when this returns.
    void start_service()
    {
        sock = dir + "/podman.sock";
        service = std::make_unique<BackgroundProcess>(podman_argv({"system", "service", "--time=0", "unix://" + sock}));
        const RuntimeApi api(sock);
        ASSERT_TRUE(eventually([&] {
            try {
                return api.get("/v4.0.0/libpod/_ping") == "OK";
            } catch (const Error &) {
                return false;
            }
        })) << "podman system service did not answer on " << sock;
    }

    std::unique_ptr<Lab> lab;
    std::string host, lan, dir, sock;
    std::unique_ptr<BackgroundProcess> service;
};

} // namespace fp::test

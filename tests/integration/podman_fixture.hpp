// Real Podman 4.3.1 (CNI backend) for the tests, in a PodmanSandbox (loader/lab) run
// inside the test's host namespace, with one network of its own ("fpnet": flatpath-cni)
// and containers from a busybox root filesystem: nothing of the machine's Podman setup
// is used. A LAN namespace reaches the host namespace through uplink0.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
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
#include "podman_sandbox.hpp"
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

        podman_box = std::make_unique<PodmanSandbox>(host, PodmanSandbox::Backend::Cni,
                                                     std::vector<std::string>{fs::path(FLATPATH_CNI_BIN).parent_path().string(),
                                                                              "/usr/lib/cni"});
        dir = podman_box->dir();
        fs::create_directories(dir + "/state");
        fs::create_directories(dir + "/rootfs/www");
        std::ofstream(dir + "/rootfs/www/index.html") << "hello-from-flatpath\n";
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
        podman_box.reset();
        lab.reset();
    }

    std::vector<std::string> podman_argv(const std::vector<std::string> &args) const { return podman_box->argv(args); }
    std::string podman(const std::vector<std::string> &args) { return podman_box->run(args); }
    std::string inspect(const std::string &name, const std::string &format) { return podman_box->inspect(name, format); }
    std::vector<std::string> run_args(const std::string &name, const std::vector<std::string> &extra,
                                      const std::vector<std::string> &cmd, const std::string &network = "fpnet")
    {
        return podman_box->run_args(name, extra, cmd, network);
    }
    std::string host_state()
    {
        std::string s = lab->in(host, {"ip", "-br", "link"}) + lab->in(host, {"ip", "route"}) +
                        lab->in(host, {"iptables-save"}) + lab->in(host, {"nft", "list", "ruleset"});
        if (!fs::exists(dir + "/state/ipam"))
            return s;
        for (const auto &e : fs::recursive_directory_iterator(dir + "/state/ipam"))
            if (e.is_regular_file() && e.path().filename() != "lock" &&
                !e.path().filename().string().starts_with("last_reserved") &&
                e.path().parent_path().filename() != "owners") // the index of leases, not one
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
    std::unique_ptr<PodmanSandbox> podman_box; // after lab: removed before the namespaces
    std::string host, lan, dir, sock;
    std::unique_ptr<BackgroundProcess> service;
};

} // namespace fp::test

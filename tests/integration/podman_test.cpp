// Real Podman 4.3.1 (CNI backend) with flatpath-cni, end to end. Podman runs inside
// a namespace of the test's (through nsenter, so that cgroups stay visible to runc),
// with its own containers.conf, storage and network directory, and containers run
// from a busybox root filesystem: nothing of the machine's Podman setup is used.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <stdlib.h>
#include <sys/mount.h>

#include <ctime>
#include <filesystem>
#include <fstream>

#include "background_process.hpp"
#include "command.hpp"
#include "container_info.hpp"
#include "error.hpp"
#include "lab.hpp"
#include "runtime_api.hpp"
#include "runtime_event.hpp"

namespace fp::test {
namespace {

namespace fs = std::filesystem;

class PodmanTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        for (const char *tool : {"podman", "runc", "nsenter"})
            if (run_command({"sh", "-c", std::string("command -v ") + tool}).status != 0)
                GTEST_SKIP() << tool << " is not installed (./quickstart installs it)";
        if (!fs::exists("/bin/busybox"))
            GTEST_SKIP() << "busybox-static is not installed (./quickstart installs it)";
        lab = std::make_unique<Lab>("p");
        host = lab->add_netns("host");
        lan = lab->add_netns("lan");
        lab->add_veth(lan, "lan0", MacAddr::parse("02:fd:00:00:00:02"), host, "uplink0", MacAddr::parse("02:fd:00:00:00:01"));
        lab->in(lan, {"ip", "addr", "add", "10.65.0.2/24", "dev", "lan0"});
        lab->in(host, {"ip", "addr", "add", "10.65.0.1/24", "dev", "uplink0"});
        lab->in(lan, {"ethtool", "-K", "lan0", "tx", "off"});

        char tmpl[] = "/run/flatpath-podman-test.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir = tmpl;
        for (const char *d : {"net.d", "root", "run", "state", "rootfs/bin", "rootfs/tmp", "rootfs/www"})
            fs::create_directories(dir + "/" + d);
        fs::copy_file("/bin/busybox", dir + "/rootfs/bin/busybox");
        for (const char *applet : {"sh", "sleep", "ping", "httpd", "ip"})
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
        if (!lab)
            return;
        run_command(podman_argv({"rm", "-af", "-t", "0"}));
        // Podman may leave mounts under its storage: detach them before removing it.
        run_command({"sh", "-c", "grep -o '" + dir + "[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l"});
        fs::remove_all(dir);
        lab.reset();
    }

    std::vector<std::string> podman_argv(const std::vector<std::string> &args) const
    {
        std::vector<std::string> argv = {"nsenter", "--net=/run/netns/" + host, "env", "CONTAINERS_CONF=" + dir + "/containers.conf",
                                         "podman", "--root", dir + "/root", "--runroot", dir + "/run"};
        argv.insert(argv.end(), args.begin(), args.end());
        return argv;
    }
    std::string podman(const std::vector<std::string> &args) { return run_checked(podman_argv(args)); }
    std::vector<std::string> run_args(const std::string &name, const std::vector<std::string> &extra,
                                      const std::vector<std::string> &cmd)
    {
        std::vector<std::string> a = {"run", "-d", "--name", name, "--network", "fpnet"};
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

    std::unique_ptr<Lab> lab;
    std::string host, lan, dir;
};

// Two containers on a flatpath network reach each other; --ip and --mac-address hold.
TEST_F(PodmanTest, ContainersReachEachOtherWithRequestedAddresses)
{
    podman(run_args("one", {"--ip", "10.66.0.50", "--mac-address", "02:66:00:00:00:50"}, {"sleep", "300"}));
    const std::string shown = podman({"exec", "one", "ip", "addr", "show", "eth0"});
    EXPECT_NE(shown.find("inet 10.66.0.50/32"), std::string::npos) << shown;
    EXPECT_NE(shown.find("02:66:00:00:00:50"), std::string::npos) << shown;
    const CommandResult ping = run_command(podman_argv(
        {"run", "--rm", "--network", "fpnet", "--rootfs", dir + "/rootfs", "ping", "-c", "3", "-W", "2", "10.66.0.50"}));
    EXPECT_EQ(ping.status, 0) << ping.output;
    EXPECT_NE(ping.output.find("3 packets received"), std::string::npos) << ping.output;
}

// -p 8080:80 is reachable from the LAN through the uplink, the server sees the client's
// own address, and after stop and rm nothing of the container is left; no firewall rule.
TEST_F(PodmanTest, PublishedPortFromTheLanAndNothingLeftAfterRm)
{
    const std::string before = host_state();
    podman(run_args("web", {"-p", "8080:80"}, {"httpd", "-f", "-vv", "-p", "80", "-h", "/www"}));
    std::string body;
    for (int attempt = 0; attempt < 20 && body.empty(); ++attempt) { // until httpd listens
        const CommandResult r = run_command(
            {"ip", "netns", "exec", lan, "timeout", "5", "/bin/busybox", "wget", "-qO-", "http://10.65.0.1:8080/index.html"});
        if (r.status == 0)
            body = r.output;
        else
            ::usleep(100000);
    }
    EXPECT_EQ(body, "hello-from-flatpath\n");
    EXPECT_NE(podman({"logs", "web"}).find("10.65.0.2"), std::string::npos) << "the server saw the client's address";
    const std::string during = lab->in(host, {"iptables-save"}) + lab->in(host, {"nft", "list", "ruleset"});
    EXPECT_EQ(during, "") << "flatpath made firewall rules";
    podman({"stop", "-t", "1", "web"});
    podman({"rm", "web"});
    EXPECT_EQ(host_state(), before);
}

// The daemon's window on Podman (issue 6): Podman's REST API on a test-owned socket,
// read by RuntimeApi, lists a running container with its labels; its inspect answer gives
// the labels, the address and MAC on the network and the published port; and its event
// stream reports the container's start with the labels, one JSON object per line.
TEST_F(PodmanTest, RuntimeApiListsInspectsAndStreamsEvents)
{
    const std::string sock = dir + "/podman.sock";
    BackgroundProcess service(podman_argv({"system", "service", "--time=0", "unix://" + sock}));
    const RuntimeApi api(sock);
    std::string ping;
    for (int attempt = 0; attempt < 300 && ping.empty(); ++attempt) { // until the service listens (30 s)
        try {
            ping = api.get("/v4.0.0/libpod/_ping");
        } catch (const Error &) {
            ::usleep(100000);
        }
    }
    ASSERT_EQ(ping, "OK");
    EXPECT_TRUE(api.get_json("/v4.0.0/libpod/info").contains("version"));

    const std::time_t since = std::time(nullptr) - 1;
    podman(run_args("labelled",
                    {"--label", "network.enable=true", "--label", "network.dnat.ports=80,53/udp", "-p", "8080:80"},
                    {"sleep", "300"}));
    bool listed = false;
    for (const auto &c : api.get_json("/v4.0.0/libpod/containers/json"))
        if (c["Names"][0] == "labelled")
            listed = c["Labels"]["network.enable"] == "true" && c["Labels"]["network.dnat.ports"] == "80,53/udp";
    EXPECT_TRUE(listed) << "the running container, with its labels";

    const ContainerInfo info = parse_container_inspect(api.get_json("/v4.0.0/libpod/containers/labelled/json"));
    EXPECT_EQ(info.name, "labelled");
    EXPECT_EQ(info.labels.at("network.dnat.ports"), "80,53/udp");
    ASSERT_TRUE(info.networks.contains("fpnet"));
    EXPECT_TRUE(info.networks.at("fpnet").ip.starts_with("10.66.0.")) << info.networks.at("fpnet").ip;
    EXPECT_EQ(info.networks.at("fpnet").mac.size(), 17u);
    ASSERT_EQ(info.published.size(), 1u);
    EXPECT_EQ(info.published[0].host_port, 8080);
    EXPECT_EQ(info.published[0].container_port, 80);
    EXPECT_EQ(info.published[0].proto, 6);

    // stream=false with an end time: the service sends what happened and closes.
    bool started = false;
    std::size_t lines = 0, refused = 0;
    const RuntimeApi::StreamEnd end = api.follow(
        "/v4.0.0/libpod/events?stream=false&since=" + std::to_string(since) + "&until=" + std::to_string(std::time(nullptr) + 1),
        [&](std::string_view line) {
            ++lines;
            std::string why;
            auto e = parse_runtime_event(line, &why);
            if (!e)
                ++refused;
            else if (e->kind == EventKind::Start && e->container_id == info.id)
                started = e->attributes["name"] == "labelled" && e->attributes["network.enable"] == "true";
            return true;
        });
    EXPECT_TRUE(started) << lines << " event lines, none a start of 'labelled' with its label";
    EXPECT_EQ(refused, 0u);
    EXPECT_FALSE(end.stopped);
    EXPECT_EQ(end.oversized, 0u);
    EXPECT_EQ(end.truncated, 0u);
    EXPECT_THROW(api.get("/v4.0.0/libpod/containers/no-such-container/json"), Error);
}

} // namespace
} // namespace fp::test

// flatpath-cni driven exactly as a runtime drives it: CNI_* environment, the
// network configuration on stdin, the result or error JSON on stdout. Containers
// are empty namespaces; the "host" is a namespace too, with the pins on the lab's
// own bpffs and the leases in a state directory of the test's.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <tuple>
#include <set>

#include "command.hpp"
#include "demo.hpp"
#include "lab.hpp"
#include "missing_tool.hpp"
#include "subnet_env.hpp"
#include "traffic.hpp"

namespace fp::test {
namespace {

class CniTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        lab = std::make_unique<Lab>("n");
        host = lab->add_netns("host");
        lab->in(host, {"sysctl", "-qw", "net.ipv4.ip_forward=1"});
        char dir[] = "/run/flatpath-cni-state.XXXXXX"; // removed in TearDown
        ASSERT_NE(::mkdtemp(dir), nullptr);
        state = dir;
        config = {{"cniVersion", "1.0.0"},
                  {"name", "fpnet"},
                  {"type", "flatpath-cni"},
                  {"subnet", "10.77.0.0/24"},
                  {"pinRoot", lab->pin_root()},
                  {"stateDir", state}};
        baseline = residue();
    }
    void TearDown() override
    {
        lab.reset();
        std::filesystem::remove_all(state);
    }

    // One plugin run: env is CNI_* (plus extras), stdin the configuration.
    CommandResult cni(const std::map<std::string, std::string> &env, const std::string &stdin_text)
    {
        std::vector<std::string> argv = {"ip", "netns", "exec", host, "env", "-i"};
        for (const auto &[k, v] : env)
            argv.push_back(k + "=" + v);
        argv.push_back(FLATPATH_CNI_BIN);
        return run_command(argv, &stdin_text);
    }
    std::map<std::string, std::string> env(const std::string &cmd, const std::string &id, const std::string &netns,
                                           const std::string &ifname = "eth0")
    {
        return {{"CNI_COMMAND", cmd}, {"CNI_CONTAINERID", id}, {"CNI_NETNS", "/run/netns/" + netns},
                {"CNI_IFNAME", ifname}, {"CNI_PATH", "/usr/lib/cni"}};
    }
    nlohmann::json add(const std::string &id, const std::string &netns, const nlohmann::json &cfg)
    {
        const CommandResult r = cni(env("ADD", id, netns), cfg.dump());
        EXPECT_EQ(r.status, 0) << r.output;
        return nlohmann::json::parse(r.output.substr(0, r.output.find('\n')));
    }
    void del(const std::string &id, const std::string &netns)
    {
        const CommandResult r = cni(env("DEL", id, netns), config.dump());
        EXPECT_EQ(r.status, 0) << r.output;
    }

    // Everything ADD may leave behind: host links, routes and neighbours, leases, datapath
    // pins and entries.
    std::string residue()
    {
        std::string r = lab->in(host, {"ip", "-br", "link"}) + lab->in(host, {"ip", "route"}) +
                        lab->in(host, {"ip", "neigh"}) + lab->in(host, {"ip", "-6", "route"}) +
                        lab->in(host, {"sysctl", "net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding",
                                       "net.ipv4.conf.lo.accept_local"});
        if (std::filesystem::exists(state + "/attachments"))
            for (const auto &e : std::filesystem::directory_iterator(state + "/attachments"))
                r += "attachment record " + e.path().filename().string() + "\n";
        if (std::filesystem::exists(state + "/ipam/fpnet"))
            for (const auto &e : std::filesystem::directory_iterator(state + "/ipam/fpnet"))
                if (e.path().filename() != "lock" && !e.path().filename().string().starts_with("last_reserved"))
                    r += "lease " + e.path().filename().string() + "\n";
        if (std::filesystem::exists(lab->pin_root())) {
            r += "pins\n";
            for (const char *what : {"endpoint", "dnat", "masq"})
                r += run_checked({"ip", "netns", "exec", host, FLATPATH_BIN, "--pin-root", lab->pin_root(), what,
                                  "list", "--json"});
            // fp_ifaces: what the datapath has attached where (status exits 3 when that
            // is broken: its JSON says how).
            r += nlohmann::json::parse(run_command({"ip", "netns", "exec", host, FLATPATH_BIN, "--pin-root",
                                                    lab->pin_root(), "status", "--json"})
                                           .output)["interfaces"]
                     .dump();
        }
        return r;
    }

    // Packets flatpath delivered to the endpoint whose first address is addr.
    std::uint64_t delivered_to(const IpAddr &addr)
    {
        const auto stats = nlohmann::json::parse(
            run_checked({"ip", "netns", "exec", host, FLATPATH_BIN, "--pin-root", lab->pin_root(), "stats", "--json"}));
        for (const auto &e : stats["endpoints"])
            if (e["addresses"][0] == addr.str())
                return e["to_packets"];
        return 0;
    }

    // The host end's name from an ADD result (in prevResult).
    static std::string r_host_if(const nlohmann::json &cfg) { return cfg["prevResult"]["interfaces"][0]["name"]; }

    std::unique_ptr<Lab> lab;
    std::string host, state;
    nlohmann::json config;
    std::string baseline;
};

// Two containers attached by the plugin reach each other through flatpath's fast path;
// the result is what runtimes need; DEL removes everything, and again, and without netns.
TEST_F(CniTest, AddTwoContainersThenDelLeavesNothing)
{
    const std::string c1 = lab->add_netns("c1"), c2 = lab->add_netns("c2");
    const nlohmann::json r1 = add("id-one", c1, config);
    const nlohmann::json r2 = add("id-two", c2, config);
    ASSERT_EQ(r1["interfaces"].size(), 2u);
    EXPECT_EQ(r1["interfaces"][1]["name"], "eth0");
    EXPECT_EQ(r1["interfaces"][1]["sandbox"], "/run/netns/" + c1);
    EXPECT_EQ(r1["interfaces"][1]["mac"].get<std::string>().size(), 17u);
    EXPECT_EQ(r1["ips"][0]["interface"], 1);
    const IpAddr a1 = IpAddr::parse(r1["ips"][0]["address"].get<std::string>().substr(0, r1["ips"][0]["address"].get<std::string>().find('/')));
    const IpAddr a2 = IpAddr::parse(r2["ips"][0]["address"].get<std::string>().substr(0, r2["ips"][0]["address"].get<std::string>().find('/')));
    EXPECT_NE(a1, a2);
    EXPECT_EQ(ping(c1, a2.str(), 3), 3u);
    const Received udp = udp_send(c2, a2, 7000, c1, 300);
    EXPECT_EQ(udp.messages, 300u);
    EXPECT_EQ(udp.peer, a1.str());
    EXPECT_GE(delivered_to(a2), 300u) << "flatpath carried them";
    // ipMasq is on by default, as in Podman's bridge networks: one rule for the subnet.
    const auto masq = [&] {
        return nlohmann::json::parse(run_checked(
            {"ip", "netns", "exec", host, FLATPATH_BIN, "--pin-root", lab->pin_root(), "masq", "list", "--json"}));
    };
    ASSERT_EQ(masq().size(), 1u) << masq().dump();
    EXPECT_EQ(masq()[0]["subnet"], "10.77.0.0/24");

    del("id-one", c1);
    EXPECT_EQ(masq().size(), 1u) << "the network's other container still needs it";
    del("id-two", c2);
    del("id-two", c2); // twice
    std::ifstream log(state + "/flatpath-cni.log");
    const std::string logged((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    EXPECT_NE(logged.find("ADD fpnet id-one eth0: ok"), std::string::npos) << logged;
    EXPECT_NE(logged.find("DEL fpnet id-two eth0: ok"), std::string::npos) << logged;
    lab->in(c1, {"true"});
    const CommandResult gone = cni(env("DEL", "id-one", "no-such-netns"), config.dump());
    EXPECT_EQ(gone.status, 0) << "DEL without its namespace: " << gone.output;
    const std::string left = residue();
    EXPECT_NE(left.find("pins"), std::string::npos) << "the datapath stays up for the next container";
    EXPECT_EQ(left.find("lease"), std::string::npos) << left;
    EXPECT_EQ(left.find("fp"), std::string::npos) << "a host veth or route is left: " << left;
    EXPECT_EQ(masq().size(), 0u) << "the last container took the network's masquerade rule with it";

    // "ipMasq": false makes none.
    nlohmann::json plain = config;
    plain["ipMasq"] = false;
    add("id-three", c2, plain);
    EXPECT_EQ(masq().size(), 0u);
    const CommandResult r = cni(env("DEL", "id-three", c2), plain.dump());
    EXPECT_EQ(r.status, 0) << r.output;
}

// `flatpath ps` lists each container the plugin attached: the runtime's name for it
// (K8S_POD_NAME, as Podman passes it), its network, address, host device and published
// port, the packets flatpath delivered to it, and its state, which follows what happens
// to it: ok, then "program detached" when its tc program is taken away behind flatpath's
// back; a container's DEL takes its row away.
TEST_F(CniTest, PsListsEachAttachedContainerAndItsState)
{
    const std::string c1 = lab->add_netns("c1"), c2 = lab->add_netns("c2");
    nlohmann::json published = config;
    published["runtimeConfig"]["portMappings"] = {{{"hostPort", 8080}, {"containerPort", 80}, {"protocol", "tcp"}}};
    auto e = env("ADD", "id-ps-web", c1);
    e["CNI_ARGS"] = "IgnoreUnknown=1;K8S_POD_NAME=web";
    const CommandResult added = cni(e, published.dump());
    ASSERT_EQ(added.status, 0) << added.output;
    const nlohmann::json r1 = nlohmann::json::parse(added.output.substr(0, added.output.find('\n')));
    const nlohmann::json r2 = add("id-ps-other", c2, config);
    const std::string a2 = r2["ips"][0]["address"].get<std::string>().substr(0, r2["ips"][0]["address"].get<std::string>().find('/'));
    EXPECT_EQ(udp_send(c2, IpAddr::parse(a2), 7000, c1, 100).messages, 100u);

    const auto ps = [&] {
        return nlohmann::json::parse(run_checked({"ip", "netns", "exec", host, FLATPATH_BIN, "--pin-root", lab->pin_root(),
                                                  "ps", "--json", "--state-dir", state, "--run-dir", state + "/none"}));
    };
    nlohmann::json rows = ps();
    ASSERT_EQ(rows.size(), 2u) << rows;
    const nlohmann::json web = rows[1]["name"] == "web" ? rows[1] : rows[0];
    const nlohmann::json other = rows[1]["name"] == "web" ? rows[0] : rows[1];
    EXPECT_EQ(web["name"], "web");
    EXPECT_EQ(web["id"], "id-ps-web");
    EXPECT_EQ(web["network"], "fpnet");
    EXPECT_EQ(web["host_dev"], r1["interfaces"][0]["name"]);
    EXPECT_EQ(web["ports"], nlohmann::json::array({"tcp 0.0.0.0:8080 -> 80"}));
    EXPECT_EQ(web["managed_by"], "cni");
    EXPECT_EQ(web["state"], "ok");
    EXPECT_EQ(other["name"], "");
    EXPECT_EQ(other["addresses"], nlohmann::json::array({a2}));
    EXPECT_GE(other["to_packets"].get<std::uint64_t>(), 100u) << "delivered by flatpath";
    EXPECT_EQ(other["state"], "ok");

    lab->in(host, {"tc", "qdisc", "del", "dev", other["host_dev"].get<std::string>(), "clsact"});
    rows = ps();
    for (const auto &row : rows)
        EXPECT_EQ(row["state"], row["id"] == "id-ps-other" ? "program detached" : "ok") << row;
    del("id-ps-web", c1);
    rows = ps();
    ASSERT_EQ(rows.size(), 1u) << rows;
    EXPECT_EQ(rows[0]["id"], "id-ps-other");
    del("id-ps-other", c2);
    EXPECT_TRUE(ps().empty());
}

// A failure after any step of ADD leaves nothing behind: links, routes, leases, pins,
// and the forwarding sysctls the ADD turned on (the host starts with them off, as a
// fresh host has them).
TEST_F(CniTest, FailureAfterEachStepLeavesNothing)
{
    lab->in(host, {"sysctl", "-qw", "net.ipv4.ip_forward=0"});
    baseline = residue();
    const std::string c1 = lab->add_netns("c1");
    nlohmann::json cfg = config;
    cfg["runtimeConfig"]["portMappings"] = {{{"hostPort", 8080}, {"containerPort", 80}, {"protocol", "tcp"}}};
    cfg["policy"] = {{"egress", {{"default", "deny"}, {"allow", {"10.77.0.0/24"}}}}};
    for (const char *step : {"ipam", "veth", "container", "host", "datapath", "endpoint", "policy", "ports", "record"}) {
        SCOPED_TRACE(step);
        auto e = env("ADD", "id-fail", c1);
        e["FLATPATH_CNI_FAIL_AFTER"] = step;
        const CommandResult r = cni(e, cfg.dump());
        EXPECT_NE(r.status, 0);
        const auto err = nlohmann::json::parse(r.output.substr(0, r.output.find('\n')));
        EXPECT_EQ(err["code"], 5) << r.output;
        EXPECT_EQ(residue(), baseline);
        EXPECT_EQ(lab->in(c1, {"ip", "-br", "link"}).find("eth0"), std::string::npos) << "container side left";
    }
}

// Bad input: the spec's error code, and nothing changed.
TEST_F(CniTest, BadInputGetsTheRightCodeAndLeavesNothing)
{
    const std::string c1 = lab->add_netns("c1");
    add("id-taken", c1, config); // eth0 taken in c1, and one lease
    const auto expect_code = [&](const std::map<std::string, std::string> &e, const std::string &input, int code,
                                 const std::string &what) {
        SCOPED_TRACE(what);
        const std::string before = residue();
        const CommandResult r = cni(e, input);
        EXPECT_NE(r.status, 0);
        const auto j = nlohmann::json::parse(r.output.substr(0, r.output.find('\n')));
        EXPECT_EQ(j["code"], code) << r.output;
        EXPECT_FALSE(j["msg"].get<std::string>().empty());
        EXPECT_EQ(residue(), before);
    };
    const auto with = [&](const char *key, const nlohmann::json &value) {
        nlohmann::json c = config;
        c[key] = value;
        return c.dump();
    };
    expect_code(env("ADD", "x", c1, "eth1"), "{\"cniVersion\":", 6, "malformed JSON");
    expect_code(env("ADD", "x", c1, "eth1"), R"({"name":"fpnet"})", 6, "no cniVersion");
    expect_code(env("ADD", "x", c1, "eth1"), with("cniVersion", "0.9.9"), 1, "unknown cniVersion");
    for (const char *var : {"CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME"}) {
        auto e = env("ADD", "x", c1, "eth1");
        e.erase(var);
        expect_code(e, config.dump(), 4, var);
    }
    expect_code(env("ADD", "x", "no-such-netns", "eth1"), config.dump(), 4, "netns does not exist");
    expect_code(env("ADD", "x", c1, "eth1"), with("subnet", "10.77.0.0/33"), 7, "bad subnet");
    expect_code(env("ADD", "x", c1, "eth1"), with("subnet", "10.77.0.1/24"), 7, "subnet with host bits");
    expect_code(env("ADD", "x", c1), config.dump(), 102, "interface name taken");
    nlohmann::json small = config;
    small["subnet"] = "10.77.0.0/30";
    add("id-fill", lab->add_netns("c2"), small); // with id-taken's .1, the /30 is full
    expect_code(env("ADD", "x", c1, "eth1"), small.dump(), 100, "exhausted pool");
    nlohmann::json ports = config;
    ports["runtimeConfig"]["portMappings"] = {{{"hostPort", 0}, {"containerPort", 80}}};
    expect_code(env("ADD", "x", c1, "eth1"), ports.dump(), 7, "bad portMappings");
    auto unknown_arg = env("ADD", "x", c1, "eth1");
    unknown_arg["CNI_ARGS"] = "FOO=bar";
    expect_code(unknown_arg, config.dump(), 7, "unknown CNI_ARGS key without IgnoreUnknown");
    unknown_arg["CNI_ARGS"] = "IgnoreUnknown=maybe;FOO=bar";
    expect_code(unknown_arg, config.dump(), 7, "IgnoreUnknown that is no boolean");
    expect_code(env("ADD", "x", c1, "eth1"), with("xdpMode", "fast"), 7, "unknown xdpMode");
    expect_code(env("ADD", "x", c1, "eth1"), with("ipMasq", "yes"), 7, "ipMasq that is no boolean");
    expect_code(env("ADD", "x", c1, "eth1"), with("pinRoot", "relative/pins"), 7, "relative pinRoot");
    expect_code(env("ADD", "x", c1, "eth1"), with("stateDir", ""), 7, "empty stateDir");
    expect_code(env("ADD", "x", c1, "eth1"), with("policy", "deny"), 7, "policy that is no object");
    expect_code(env("ADD", "x", c1, "eth1"), with("policy", {{"outbound", {}}}), 7, "policy with an unknown side");
    expect_code(env("ADD", "x", c1, "eth1"), with("policy", {{"egress", {{"default", "block"}}}}), 7,
                "policy default neither allow nor deny");
    expect_code(env("ADD", "x", c1, "eth1"), with("policy", {{"egress", {{"allow", {"10.0.0.0/33"}}}}}), 7,
                "policy item with a bad prefix");
    expect_code(env("ADD", "x", c1, "eth1"), with("policy", {{"ingress", {{"allow", {"*:80/icmp"}}}}}), 7,
                "policy item with ports for icmp");
    std::string huge = config.dump();
    huge.insert(huge.size() - 1, ",\"pad\":\"" + std::string(1 << 20, 'x') + "\"");
    expect_code(env("ADD", "x", c1, "eth1"), huge, 6, "1 MiB input");
}

// A conflist's "policy" is each container's firewall: c1 may start flows only into the
// network's subnet (c2 answers its pings, an address of the host does not; it answers
// c2, which has no policy), the listing and `ps` show the policy on c1's device, and DEL
// removes it with the endpoint.
TEST_F(CniTest, TheConflistsPolicyIsEachContainersFirewall)
{
    const std::string c1 = lab->add_netns("c1"), c2 = lab->add_netns("c2");
    nlohmann::json cfg = config;
    cfg["policy"] = {{"egress", {{"default", "deny"}, {"allow", {"10.77.0.0/24"}}}}};
    add("id-p1", c1, cfg);
    const nlohmann::json r2 = add("id-p2", c2, config);
    const std::string a2 = r2["ips"][0]["address"].get<std::string>();
    EXPECT_EQ(ping(c1, a2.substr(0, a2.find('/')), 2), 2u);
    lab->in(host, {"ip", "addr", "add", "10.78.0.1/32", "dev", "lo"}); // the host's, outside the subnet
    EXPECT_EQ(ping(c2, "10.78.0.1", 2), 2u) << "c2 has no policy";
    EXPECT_EQ(ping(c1, "10.78.0.1", 2), 0u) << "outside c1's allowed subnet";
    const auto policies = [&] {
        return nlohmann::json::parse(run_checked(
            {"ip", "netns", "exec", host, FLATPATH_BIN, "--pin-root", lab->pin_root(), "policy", "list", "--json"}));
    };
    nlohmann::json rows = policies();
    ASSERT_EQ(rows.size(), 3u) << rows;
    EXPECT_EQ(rows[1]["direction"], "out");
    EXPECT_EQ(rows[1]["action"], "deny");
    EXPECT_EQ(rows[2]["peer"], "10.77.0.0/24");
    const nlohmann::json ps = nlohmann::json::parse(run_checked({"ip", "netns", "exec", host, FLATPATH_BIN, "--pin-root",
                                                                 lab->pin_root(), "ps", "--json", "--state-dir", state,
                                                                 "--run-dir", state + "/none"}));
    ASSERT_EQ(ps.size(), 2u) << ps;
    for (const auto &row : ps)
        EXPECT_EQ(row["policy"], row["id"] == "id-p1" ? nlohmann::json("in allow, out deny +1") : nlohmann::json())
            << row;
    del("id-p1", c1);
    EXPECT_TRUE(policies().empty());
    del("id-p2", c2);
}

// CNI_ARGS keys for other plugins pass with IgnoreUnknown=1 (what Podman sends); the
// environment's FLATPATH_PIN_ROOT and FLATPATH_STATE_DIR do not move the plugin's state,
// only the conflist does (Podman runs some DELs without the caller's environment). The
// runtime's name for the container (K8S_POD_NAME) is in the plugin's log, where
// `flatpath logs --container NAME` finds its ADD.
TEST_F(CniTest, IgnoreUnknownArgsAndNoEnvironmentForState)
{
    const std::string c1 = lab->add_netns("c1");
    auto e = env("ADD", "id-args", c1);
    e["CNI_ARGS"] = "IgnoreUnknown=1;K8S_POD_NAME=web;FOO=bar";
    e["FLATPATH_PIN_ROOT"] = state + "/elsewhere/flatpath";
    e["FLATPATH_STATE_DIR"] = state + "/elsewhere";
    const CommandResult r = cni(e, config.dump());
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_NE(residue().find("10.77.0.1"), std::string::npos) << "the lease and endpoint are where the conflist says";
    EXPECT_FALSE(std::filesystem::exists(state + "/elsewhere"));
    del("id-args", c1);

    const CommandResult logs = run_command(
        {FLATPATH_BIN, "logs", "--state-dir", state, "--run-dir", state + "/no-daemon", "--container", "web"});
    EXPECT_EQ(logs.status, 0) << logs.output;
    EXPECT_NE(logs.output.find(" cni    ADD fpnet id-args eth0 name=web: "), std::string::npos) << logs.output;
    const CommandResult other = run_command({FLATPATH_BIN, "logs", "--state-dir", state, "--run-dir",
                                             state + "/no-daemon", "--container", "db"});
    EXPECT_EQ(other.output, "") << "another container's lines";
}

// A container whose DEL never came (its host veth went with its namespace, or the DEL
// ran with another pin root) never blocks the next ADD: the same container again (podman
// restart: the same lease, the same address, the same port) and then another container
// publishing the same port both succeed, and the dead endpoint's DNAT entry and flows
// go with it. GC reclaims an attachment the runtime still lists whose veth is gone.
TEST_F(CniTest, AStaleEndpointNeverBlocksTheNextAdd)
{
    nlohmann::json cfg = config;
    cfg["runtimeConfig"]["portMappings"] = {{{"hostPort", 8080}, {"containerPort", 80}, {"protocol", "tcp"}}};
    const std::string first = lab->add_netns("c1");
    nlohmann::json r = add("id-a", first, cfg);
    lab->in(host, {"ip", "link", "del", r["interfaces"][0]["name"].get<std::string>()}); // the DEL that never came
    const std::string again = lab->add_netns("c1b");
    r = add("id-a", again, cfg);
    EXPECT_EQ(r["ips"][0]["address"], "10.77.0.1/32");
    lab->in(host, {"ip", "link", "del", r["interfaces"][0]["name"].get<std::string>()});
    const std::string other = lab->add_netns("c2");
    r = add("id-b", other, cfg);
    const auto dnat = nlohmann::json::parse(
        run_checked({"ip", "netns", "exec", host, FLATPATH_BIN, "--pin-root", lab->pin_root(), "dnat", "list", "--json"}));
    ASSERT_EQ(dnat.size(), 1u) << dnat.dump();
    EXPECT_EQ(dnat[0]["backend"], r["ips"][0]["address"].get<std::string>().substr(0, 9));
    const auto endpoints = nlohmann::json::parse(run_checked(
        {"ip", "netns", "exec", host, FLATPATH_BIN, "--pin-root", lab->pin_root(), "endpoint", "list", "--json"}));
    ASSERT_EQ(endpoints.size(), 1u) << endpoints.dump();
    EXPECT_NE(endpoints[0]["dev"], "");

    lab->in(host, {"ip", "link", "del", r["interfaces"][0]["name"].get<std::string>()});
    // GC leaves leases younger than a minute alone (their ADD may not have made its veth
    // yet): this one is older.
    const std::string lease = state + "/ipam/fpnet/" + r["ips"][0]["address"].get<std::string>().substr(0, 9);
    ASSERT_TRUE(std::filesystem::exists(lease)) << lease;
    nlohmann::json gc = config;
    gc["cni.dev/valid-attachments"] = {{{"containerID", "id-b"}, {"ifname", "eth0"}}};
    const CommandResult young = cni({{"CNI_COMMAND", "GC"}, {"CNI_PATH", "/usr/lib/cni"}}, gc.dump());
    EXPECT_EQ(young.status, 0) << young.output;
    EXPECT_TRUE(std::filesystem::exists(lease)) << "a young lease was reclaimed";
    std::filesystem::last_write_time(lease, std::filesystem::file_time_type::clock::now() - std::chrono::minutes(2));
    const CommandResult g = cni({{"CNI_COMMAND", "GC"}, {"CNI_PATH", "/usr/lib/cni"}}, gc.dump());
    EXPECT_EQ(g.status, 0) << g.output;
    const std::string left = residue();
    EXPECT_EQ(left.find("lease"), std::string::npos) << left;
    EXPECT_EQ(left.find("10.77.0."), std::string::npos) << "an endpoint or entry is left: " << left;
}

// The plugin leaves an uplink the operator attached as it is (here: generic XDP after
// `flatpath up --xdp-mode generic`), unless the conflist names an xdpMode, which then
// applies (off: tc only, the XDP program gone).
TEST_F(CniTest, UplinksKeepTheOperatorsXdpModeUnlessTheConflistSaysOtherwise)
{
    const std::string lan = lab->add_netns("lan");
    lab->add_veth(host, "uplink0", MacAddr::parse("02:fe:00:00:00:01"), lan, "lan0", MacAddr::parse("02:fe:00:00:00:02"));
    const auto flatpath = [&](const std::vector<std::string> &args) {
        std::vector<std::string> argv = {"ip", "netns", "exec", host, FLATPATH_BIN, "--pin-root", lab->pin_root()};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_checked(argv);
    };
    const auto uplink_xdp = [&] {
        const nlohmann::json status = nlohmann::json::parse(flatpath({"status", "--json"}));
        for (const auto &i : status["interfaces"])
            if (i["name"] == "uplink0")
                return i.value("xdp", std::string("none"));
        return std::string("not attached");
    };
    flatpath({"up", "--uplink", "uplink0", "--xdp-mode", "generic"});
    nlohmann::json cfg = config;
    cfg["uplinks"] = {"uplink0"};
    const std::string c1 = lab->add_netns("c1"), c2 = lab->add_netns("c2");
    add("id-keep", c1, cfg);
    EXPECT_EQ(uplink_xdp(), "generic");
    cfg["xdpMode"] = "off";
    add("id-off", c2, cfg);
    EXPECT_EQ(uplink_xdp(), "none");
    EXPECT_EQ(lab->in(host, {"ip", "-d", "link", "show", "uplink0"}).find("prog/xdp"), std::string::npos);
    del("id-keep", c1);
    del("id-off", c2);
    flatpath({"down"});
}

// CHECK passes on a good attachment (with its prevResult) and names what broke.
TEST_F(CniTest, CheckFindsABrokenAttachment)
{
    const std::string c1 = lab->add_netns("c1");
    nlohmann::json cfg = config;
    cfg["prevResult"] = add("id-check", c1, config);
    const CommandResult ok = cni(env("CHECK", "id-check", c1), cfg.dump());
    EXPECT_EQ(ok.status, 0) << ok.output;
    EXPECT_EQ(ok.output, "");
    cfg["prevResult"]["interfaces"][1]["mac"] = "02:00:00:00:00:99";
    const CommandResult mac = cni(env("CHECK", "id-check", c1), cfg.dump());
    EXPECT_NE(mac.output.find("\"code\":103"), std::string::npos) << mac.output;
    lab->in(host, {"ip", "link", "del", r_host_if(cfg)});
    const CommandResult gone = cni(env("CHECK", "id-check", c1), cfg.dump());
    EXPECT_NE(gone.output.find("is missing"), std::string::npos) << gone.output;
}

// GC keeps the attachments the runtime lists (either key spelling) and removes the rest.
TEST_F(CniTest, GcReclaimsAttachmentsNotInTheValidList)
{
    const std::string c1 = lab->add_netns("c1"), c2 = lab->add_netns("c2"), c3 = lab->add_netns("c3");
    add("keep", c1, config);
    add("lost-a", c2, config);
    add("lost-b", c3, config);
    nlohmann::json cfg = config;
    cfg["cni.dev/valid-attachments"] = {{{"containerID", "keep"}, {"ifname", "eth0"}}};
    const CommandResult r = cni({{"CNI_COMMAND", "GC"}, {"CNI_PATH", "/usr/lib/cni"}}, cfg.dump());
    EXPECT_EQ(r.status, 0) << r.output;
    const std::string left = residue();
    EXPECT_NE(left.find("lease 10.77.0.1"), std::string::npos) << left;
    EXPECT_EQ(left.find("lease 10.77.0.2"), std::string::npos) << left;
    EXPECT_EQ(left.find("lease 10.77.0.3"), std::string::npos) << left;
    cfg.erase("cni.dev/valid-attachments");
    cfg["cni.dev/attachments"] = nlohmann::json::array();
    EXPECT_EQ(cni({{"CNI_COMMAND", "GC"}}, cfg.dump()).status, 0);
    EXPECT_EQ(residue().find("lease"), std::string::npos);
}

// STATUS: ready when the pins can be made; 50 when there is no bpf filesystem for them.
TEST_F(CniTest, StatusSaysWhetherAddCanWork)
{
    EXPECT_EQ(cni({{"CNI_COMMAND", "STATUS"}}, config.dump()).status, 0);
    nlohmann::json cfg = config;
    cfg["pinRoot"] = state + "/flatpath";
    const CommandResult r = cni({{"CNI_COMMAND", "STATUS"}}, cfg.dump());
    EXPECT_NE(r.output.find("\"code\":50"), std::string::npos) << r.output;
}

// Bridge mode: host ends enslaved to a bridge that carries the gateway address; two
// containers on it reach each other (switched frames, delivered by flatpath as they
// are) and the host; a failed first ADD removes the bridge it made; DEL keeps the
// bridge (the network's, shared) and removes everything else.
TEST_F(CniTest, BridgeMode)
{
    nlohmann::json cfg = config;
    cfg["mode"] = "bridge";
    cfg["bridge"] = "fpbr9";
    cfg["subnet"] = "10.79.0.0/24";
    const std::string c1 = lab->add_netns("c1"), c2 = lab->add_netns("c2");
    for (const char *step : {"ipam", "veth", "endpoint"}) {
        auto e = env("ADD", "id-b1", c1);
        e["FLATPATH_CNI_FAIL_AFTER"] = step;
        EXPECT_NE(cni(e, cfg.dump()).status, 0);
        EXPECT_EQ(residue(), baseline) << "after a failure at " << step;
    }
    const nlohmann::json r1 = add("id-b1", c1, cfg);
    const nlohmann::json r2 = add("id-b2", c2, cfg);
    ASSERT_EQ(r1["interfaces"].size(), 3u);
    EXPECT_EQ(r1["interfaces"][0]["name"], "fpbr9");
    EXPECT_EQ(r1["ips"][0]["interface"], 2);
    const std::string a1 = r1["ips"][0]["address"], a2 = r2["ips"][0]["address"];
    EXPECT_TRUE(a1.starts_with("10.79.0.") && a1.ends_with("/24")) << a1;
    EXPECT_NE(a1, "10.79.0.1/24") << "the bridge holds .1";
    EXPECT_EQ(r1["ips"][0]["gateway"], "10.79.0.1");
    EXPECT_NE(lab->in(host, {"ip", "-br", "link", "show", "master", "fpbr9"}).find("fp"), std::string::npos);

    const IpAddr ip1 = IpAddr::parse(a1.substr(0, a1.find('/'))), ip2 = IpAddr::parse(a2.substr(0, a2.find('/')));
    EXPECT_EQ(ping(c1, ip2.str(), 2), 2u);
    EXPECT_EQ(ping(host, ip1.str(), 2), 2u);
    const Received udp = udp_send(c2, ip2, 7000, c1, 200);
    EXPECT_EQ(udp.messages, 200u);
    EXPECT_EQ(udp.peer, ip1.str());
    EXPECT_GE(delivered_to(ip2), 200u) << "flatpath, not the bridge, carried them";

    del("id-b1", c1);
    del("id-b2", c2);
    const std::string left = lab->in(host, {"ip", "-br", "link"});
    EXPECT_NE(left.find("fpbr9"), std::string::npos) << "the bridge stays";
    EXPECT_EQ(lab->in(host, {"ip", "-br", "link", "show", "master", "fpbr9"}), "");
    EXPECT_EQ(residue().find("lease"), std::string::npos);
}

// Dual stack from "ranges", with an MTU: one address per family, both reachable.
TEST_F(CniTest, DualStackRangesAndMtu)
{
    nlohmann::json cfg = config;
    cfg.erase("subnet");
    cfg["ranges"] = {{{{"subnet", "10.76.0.0/24"}, {"rangeStart", "10.76.0.100"}, {"rangeEnd", "10.76.0.199"}}},
                     {{{"subnet", "fd76::/64"}}}};
    cfg["mtu"] = 1400;
    const std::string c1 = lab->add_netns("c1"), c2 = lab->add_netns("c2");
    const nlohmann::json r1 = add("id-d1", c1, cfg);
    const nlohmann::json r2 = add("id-d2", c2, cfg);
    ASSERT_EQ(r2["ips"].size(), 2u);
    EXPECT_EQ(r2["ips"][0]["address"], "10.76.0.101/32");
    const std::string v6 = r2["ips"][1]["address"];
    EXPECT_TRUE(v6.starts_with("fd76::") && v6.ends_with("/128")) << v6;
    EXPECT_EQ(ping(c1, "10.76.0.101", 2), 2u);
    EXPECT_EQ(ping(c1, v6.substr(0, v6.find('/')), 2), 2u);
    EXPECT_NE(lab->in(c1, {"ip", "link", "show", "eth0"}).find("mtu 1400"), std::string::npos);
    del("id-d1", c1);
    del("id-d2", c2);
    EXPECT_EQ(residue().find("lease"), std::string::npos);
}

// Scenario: "subnetFile" takes the addresses, MTU and masquerade of a subnet.env (this
// host's cluster lease, as Flannel or `flatpath daemon` writes it): both families from
// its subnets, the MTU on the container's link, a masquerade rule only when FLANNEL_IPMASQ
// says so. With no file yet, ADD says "try again later" (11) and leaves nothing; DEL
// works without it.
TEST_F(CniTest, TakesItsSubnetFromASubnetFile)
{
    const std::string file = state + "/flannel/subnet.env";
    SubnetEnv lease;
    lease.network = IpPrefix::parse("10.78.0.0/16");
    lease.subnet = IpPrefix::parse("10.78.5.0/24");
    lease.ipv6_network = IpPrefix::parse("fd78::/56");
    lease.ipv6_subnet = IpPrefix::parse("fd78:0:0:5::/64");
    lease.mtu = 1450;
    lease.ip_masq = false;
    nlohmann::json cfg = config;
    cfg.erase("subnet");
    cfg["subnetFile"] = file;

    const std::string c1 = lab->add_netns("c1"), c2 = lab->add_netns("c2");
    const CommandResult early = cni(env("ADD", "id-s1", c1), cfg.dump());
    EXPECT_EQ(early.status, 1) << early.output;
    EXPECT_EQ(nlohmann::json::parse(early.output.substr(0, early.output.find('\n')))["code"], 11) << early.output;
    EXPECT_EQ(residue(), baseline);

    lease.write(file);
    const nlohmann::json r1 = add("id-s1", c1, cfg);
    ASSERT_EQ(r1["ips"].size(), 2u);
    EXPECT_TRUE(IpPrefix::parse("10.78.5.0/24").contains(IpAddr::parse(r1["ips"][0]["address"].get<std::string>().substr(0, 9))))
        << r1.dump();
    EXPECT_TRUE(r1["ips"][1]["address"].get<std::string>().starts_with("fd78:0:0:5::")) << r1.dump();
    EXPECT_NE(lab->in(c1, {"ip", "link", "show", "eth0"}).find("mtu 1450"), std::string::npos);
    const auto masq = [&] {
        return nlohmann::json::parse(run_checked({"ip", "netns", "exec", host, FLATPATH_BIN, "--pin-root", lab->pin_root(),
                                                  "masq", "list", "--json"}));
    };
    EXPECT_TRUE(masq().empty()) << "FLANNEL_IPMASQ=false: " << masq().dump();

    lease.ip_masq = true;
    lease.write(file);
    add("id-s2", c2, cfg);
    EXPECT_FALSE(masq().empty()) << "FLANNEL_IPMASQ=true";

    cfg["ipMasq"] = false;
    const CommandResult both = cni(env("ADD", "id-s3", c2, "eth1"), cfg.dump());
    EXPECT_NE(both.output.find("\"ipMasq\" comes from the subnet file"), std::string::npos) << both.output;

    std::filesystem::remove(file);
    cfg.erase("ipMasq");
    for (const auto &[id, ns] : {std::pair{"id-s1", c1}, std::pair{"id-s2", c2}}) {
        const CommandResult r = cni(env("DEL", id, ns), cfg.dump());
        EXPECT_EQ(r.status, 0) << r.output;
    }
    EXPECT_EQ(residue().find("lease"), std::string::npos);
    EXPECT_TRUE(masq().empty()) << "the rule went with the network's last container: " << masq().dump();
}

// Addresses from Debian's host-local, found through CNI_PATH: ADD gets one, DEL (with the
// runtime's prevResult) gives it back and leaves nothing.
TEST_F(CniTest, DelegatedIpamHostLocal)
{
    FP_REQUIRE_TOOL(std::filesystem::exists("/usr/lib/cni/host-local"), "containernetworking-plugins");
    const std::string c1 = lab->add_netns("c1"), c2 = lab->add_netns("c2");
    nlohmann::json cfg = config;
    cfg.erase("subnet");
    cfg["ipam"] = {{"type", "host-local"},
                   {"ranges", {{{{"subnet", "10.78.0.0/24"}}}}},
                   {"dataDir", state + "/host-local"}};
    const nlohmann::json r1 = add("id-hl1", c1, cfg);
    const nlohmann::json r2 = add("id-hl2", c2, cfg);
    const std::string a1 = r1["ips"][0]["address"], a2 = r2["ips"][0]["address"];
    EXPECT_TRUE(a1.starts_with("10.78.0.")) << a1;
    EXPECT_NE(a1, a2);
    EXPECT_EQ(ping(c1, a2.substr(0, a2.find('/')), 2), 2u);
    for (const auto &[id, ns, res] : {std::tuple{"id-hl1", c1, r1}, std::tuple{"id-hl2", c2, r2}}) {
        nlohmann::json del_cfg = cfg;
        del_cfg["prevResult"] = res;
        const CommandResult r = cni(env("DEL", id, ns), del_cfg.dump());
        EXPECT_EQ(r.status, 0) << r.output;
    }
    std::size_t leases = 0;
    for (const auto &e : std::filesystem::directory_iterator(state + "/host-local/fpnet"))
        leases += e.path().filename().string().starts_with("10.78.") ? 1 : 0;
    EXPECT_EQ(leases, 0u) << "host-local still holds an address";
    EXPECT_EQ(residue().find("fp"), std::string::npos);
}

// A chain: Debian's stock tuning plugin runs after flatpath-cni and gets its result
// intact as prevResult (and hands it on).
TEST_F(CniTest, TuningRunsAfterItInAChain)
{
    FP_REQUIRE_TOOL(std::filesystem::exists("/usr/lib/cni/tuning"), "containernetworking-plugins");
    const std::string c1 = lab->add_netns("c1");
    const nlohmann::json ours = add("id-chain", c1, config);
    const nlohmann::json tuning = {{"cniVersion", "1.0.0"},
                                   {"name", "fpnet"},
                                   {"type", "tuning"},
                                   {"sysctl", {{"net.core.somaxconn", "512"}}},
                                   {"prevResult", ours}};
    std::vector<std::string> argv = {"ip", "netns", "exec", host, "env", "-i", "CNI_COMMAND=ADD", "CNI_CONTAINERID=id-chain",
                                     "CNI_NETNS=/run/netns/" + c1, "CNI_IFNAME=eth0", "CNI_PATH=/usr/lib/cni",
                                     "/usr/lib/cni/tuning"};
    const std::string input = tuning.dump();
    const CommandResult r = run_command(argv, &input);
    ASSERT_EQ(r.status, 0) << r.output;
    const nlohmann::json out = nlohmann::json::parse(r.output); // tuning prints indented JSON
    EXPECT_EQ(out["ips"], ours["ips"]);
    EXPECT_EQ(out["interfaces"], ours["interfaces"]);
    EXPECT_EQ(lab->in(c1, {"sysctl", "-n", "net.core.somaxconn"}), "512\n");
}

// Fifty ADDs at once, then fifty DELs: fifty distinct addresses, then nothing left.
TEST_F(CniTest, FiftyConcurrentAddsAndDels)
{
    constexpr int kN = 50;
    std::vector<std::string> ns;
    for (int i = 0; i < kN; ++i)
        ns.push_back(lab->add_netns("p" + std::to_string(i)));
    // All at once, the first ones racing to bring the datapath up.
    std::vector<std::future<CommandResult>> runs;
    for (int i = 0; i < kN; ++i)
        runs.push_back(std::async(std::launch::async,
                                  [&, i] { return cni(env("ADD", "id-" + std::to_string(i), ns[i]), config.dump()); }));
    std::set<std::string> addrs;
    for (auto &f : runs) {
        const CommandResult r = f.get();
        ASSERT_EQ(r.status, 0) << r.output;
        addrs.insert(nlohmann::json::parse(r.output.substr(0, r.output.find('\n')))["ips"][0]["address"]);
    }
    EXPECT_EQ(addrs.size(), static_cast<std::size_t>(kN));
    runs.clear();
    for (int i = 0; i < kN; ++i)
        runs.push_back(std::async(std::launch::async,
                                  [&, i] { return cni(env("DEL", "id-" + std::to_string(i), ns[i]), config.dump()); }));
    for (auto &f : runs) {
        const CommandResult r = f.get();
        EXPECT_EQ(r.status, 0) << r.output;
    }
    const std::string left = residue();
    EXPECT_EQ(left.find("lease"), std::string::npos) << left;
    EXPECT_EQ(left.find("fp"), std::string::npos) << left;
}

} // namespace
} // namespace fp::test

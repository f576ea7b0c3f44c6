// The datapath's lifecycle as an operator drives it: up twice, detach and
// attach, down removing exactly what up made, and bad input refused with one
// clear line, a non-zero exit and nothing half-applied.
#include <bpf/bpf.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "demo.hpp"
#include "netns_task.hpp"
#include "sysctl.hpp"
#include "netns_fixture.hpp"

namespace fp::test {
namespace {

// Everything a flatpath command could have changed, to compare before and after.
struct Residue {
    std::vector<std::string> pins;
    std::string endpoints;
    std::string tc;  // filters and qdiscs of every host device
    std::string xdp; // XDP programs on host devices
    std::string sysctls; // per-device settings flatpath may change

    bool operator==(const Residue &) const = default;
};

std::ostream &operator<<(std::ostream &os, const Residue &r)
{
    os << "pins:";
    for (const auto &p : r.pins)
        os << " " << p;
    return os << "\nendpoints: " << r.endpoints << "\ntc:\n" << r.tc << "xdp:\n" << r.xdp << "\nsysctls:\n" << r.sysctls;
}

class LifecycleTest : public NetnsTest {
protected:
    Residue residue()
    {
        Residue r;
        if (std::filesystem::exists(lab->pin_root()))
            for (const auto &e : std::filesystem::recursive_directory_iterator(lab->pin_root()))
                r.pins.push_back(e.path().string());
        std::sort(r.pins.begin(), r.pins.end());
        const CommandResult eps = flatpath_result({"endpoint", "list", "--json"});
        r.endpoints = eps.status == 0 ? eps.output : "(not up)";
        for (const char *dev : {"uplink0", "fpc1", "fpc2", "lo"}) {
            r.tc += host({"tc", "qdisc", "show", "dev", dev});
            r.tc += host({"tc", "filter", "show", "dev", dev, "ingress"});
        }
        r.xdp = host({"ip", "-d", "link", "show", "uplink0"}).find("prog/xdp") != std::string::npos ? "uplink0" : "";
        for (const char *dev : {"fpc1", "fpc2", "lo"})
            r.sysctls += host({"sysctl", "net.ipv4.conf." + std::string(dev) + ".accept_local"});
        return r;
    }

    void expect_refused(const std::vector<std::string> &args, const std::string &message)
    {
        expect_refused_keeping(args, message, [&] { return residue(); });
    }
};

// `up` twice changes nothing the second time; forwarding keeps working.
TEST_F(LifecycleTest, UpTwiceIsHarmless)
{
    start();
    const nlohmann::json first = flatpath_json({"status", "--json"});
    const Residue before = residue();
    flatpath({"up", "--uplink", "uplink0"});
    EXPECT_EQ(flatpath_json({"status", "--json"}), first);
    EXPECT_EQ(residue(), before);
    EXPECT_EQ(ping(c1().ns, c2().v4.str(), 2), 2u);
}

// `down` removes every pin, filter, qdisc and XDP program flatpath made, and keeps
// a clsact qdisc that someone else created before flatpath came.
TEST_F(LifecycleTest, DownRemovesWhatUpMadeAndNothingElse)
{
    host({"tc", "qdisc", "add", "dev", "fpc2", "clsact"});
    const Residue pristine = residue();
    start();
    EXPECT_NE(residue(), pristine);
    EXPECT_NE(host({"tc", "filter", "show", "dev", "fpc2", "ingress"}), "");
    flatpath({"down"});
    EXPECT_EQ(residue(), pristine);
    EXPECT_NE(host({"tc", "qdisc", "show", "dev", "fpc2"}).find("clsact"), std::string::npos);
    EXPECT_EQ(flatpath({"down"}), "datapath was not up at " + lab->pin_root() + "\n");
}

// Detaching an endpoint's program stops the fast path from it (the stack forwards),
// attaching it again restores it; status reports a program removed behind its back.
TEST_F(LifecycleTest, DetachAttachAndBrokenStatus)
{
    start();
    flatpath({"detach", "fpc1"});
    std::uint64_t fwd = stack_forwarded(topo->host_ns());
    EXPECT_EQ(udp_send(c2().ns, c2().v4, 7101, c1().ns, 100).messages, 100u);
    EXPECT_GE(stack_forwarded(topo->host_ns()) - fwd, 100u);

    flatpath({"attach", "fpc1", "--role", "endpoint"});
    fwd = stack_forwarded(topo->host_ns());
    EXPECT_EQ(udp_send(c2().ns, c2().v4, 7102, c1().ns, 100).messages, 100u);
    EXPECT_EQ(stack_forwarded(topo->host_ns()) - fwd, 0u);

    host({"tc", "qdisc", "del", "dev", "fpc1", "clsact"});
    bool broken = false;
    const CommandResult r = flatpath_result({"status", "--json"});
    EXPECT_EQ(r.status, 3) << "status exits 3 when it lists a problem";
    const nlohmann::json status = nlohmann::json::parse(r.output);
    for (const auto &i : status["interfaces"])
        if (i["name"] == "fpc1")
            broken = !i["healthy"].get<bool>() && i["tc_ingress"] == "missing";
    EXPECT_TRUE(broken) << "status should report fpc1's missing program";
    EXPECT_EQ(status["problems"], nlohmann::json::array({"interface fpc1: a program is missing (flatpath attach, or endpoint del)"}));
}

TEST_F(LifecycleTest, BadInputBeforeUp)
{
    expect_refused({"endpoint", "list"}, "the datapath is not up");
    expect_refused({"up", "--uplink", "nosuchif0"}, "no network interface named nosuchif0");
    expect_refused({"up", "--uplink", "uplink0", "--xdp-mode", "turbo"}, "turbo");
    expect_refused({"frobnicate"}, "unknown command 'frobnicate'");
    expect_refused({"endpoint", "frobnicate"}, "unknown command 'frobnicate'");
}

TEST_F(LifecycleTest, BadInputWhileUp)
{
    start();
    const std::string mac = "02:fb:00:00:09:02";
    expect_refused({"endpoint", "add", "10.91.0.300", "--dev", "fpc1", "--mac", mac},
                   "'10.91.0.300' is not an IPv4 or IPv6 address");
    expect_refused({"endpoint", "add", "10.91.0.50", "--dev", "nosuchif0", "--mac", mac},
                   "no network interface named nosuchif0");
    expect_refused({"endpoint", "add", "10.91.0.50", "--dev", "fpc2", "--mac", "02:fb:zz:00:00:01"},
                   "is not a MAC address");
    expect_refused({"endpoint", "add", "10.91.0.50", "--dev", "fpc2"}, "--mac (the container's MAC) is required");
    // A duplicate among several addresses: none of them is added.
    expect_refused({"endpoint", "add", "10.91.0.50", c1().v4.str(), "--dev", "fpc2", "--mac", c2().mac.str()},
                   "endpoint " + c1().v4.str() + " already exists (on fpc1)");
    expect_refused({"endpoint", "add", "10.91.0.50", "--dev", "fpc2", "--mac", mac},
                   "fpc2 already belongs to an endpoint with MAC " + c2().mac.str());
    expect_refused({"endpoint", "add", "10.91.0.50", "--dev", "uplink0", "--mac", mac},
                   "uplink0 is attached as an uplink");
    expect_refused({"endpoint", "add", "10.91.0.50", "--dev", "lo", "--mac", mac}, "an endpoint must be a veth");
    // Addresses that can never be an endpoint's own: special ones, and the host's.
    const std::vector<std::pair<std::string, std::string>> not_endpoints = {
        {"0.0.0.0", "is a unspecified address"},    {"::", "is a unspecified address"},
        {"127.0.0.1", "is a loopback address"},     {"::1", "is a loopback address"},
        {"224.0.0.1", "is a multicast address"},    {"ff02::1", "is a multicast address"},
        {"255.255.255.255", "is a broadcast address"}, {"169.254.1.1", "is a link-local address"},
        {"fe80::1", "is a link-local address"},     {"10.90.0.1", "is an address of this host"},
        {"fd90::1", "is an address of this host"},
    };
    for (const auto &[addr, why] : not_endpoints)
        expect_refused({"endpoint", "add", addr, "--dev", "fpc2", "--mac", c2().mac.str()}, addr + " " + why);
    expect_refused({"endpoint", "del", "10.91.0.77"}, "no endpoint 10.91.0.77");
    // All or nothing: c1's address stays when the second one is unknown or repeated.
    expect_refused({"endpoint", "del", c1().v4.str(), "10.91.0.99"}, "no endpoint 10.91.0.99 (nothing was removed)");
    expect_refused({"endpoint", "del", c1().v4.str(), c1().v4.str()}, "an address is given twice");
    expect_refused({"endpoint", "del", c1().v4.str(), "bogus"}, "'bogus' is not an IPv4 or IPv6 address");
    expect_refused({"up", "--uplink", "fpc1"}, "fpc1 is a registered endpoint");
    expect_refused({"attach", "lo", "--role", "endpoint"}, "lo has no endpoint");
    expect_refused({"detach", "nosuchif0"}, "no network interface named nosuchif0");
    flatpath({"detach", "fpc2"});
    expect_refused({"detach", "fpc2"}, "flatpath has nothing attached to fpc2");
}

// The tables are as large as `up` was told (the defaults otherwise), `status` says what the
// maps take, a table that is full refuses the next entry by name and takes nothing in, and
// a size cannot change while the datapath is up: the error says how to change it.
TEST_F(LifecycleTest, UpSizesTheTablesAndAFullOneRefusesClearly)
{
    flatpath({"up", "--uplink", topo->uplink(), "--max-endpoints", "8", "--max-ports", "2", "--max-marks", "3",
              "--max-flows", "100"});
    const nlohmann::json status = flatpath_json({"status", "--json"});
    std::map<std::string, std::uint32_t> capacity;
    for (const auto &m : status["maps"])
        capacity[m["map"]] = m["capacity"];
    EXPECT_EQ(capacity[FP_MAP_ENDPOINTS], 8u);
    EXPECT_EQ(capacity[FP_MAP_DNAT], 2u);
    EXPECT_EQ(capacity[FP_MAP_BACKENDS], 2u);
    EXPECT_EQ(capacity[FP_MAP_MARKS], 3u);
    EXPECT_EQ(capacity[FP_MAP_CT], 200u); // two entries a flow
    EXPECT_EQ(capacity[FP_MAP_CT_NEW], 200u);
    EXPECT_GT(status["map_memory_bytes"].get<std::uint64_t>(), 0u);

    expect_refused({"up", "--max-flows", "1000"},
                   "is up with --max-flows 100: tables cannot be resized in place; `flatpath down` and `flatpath up "
                   "--max-flows 1000`");
    flatpath({"up", "--max-flows", "100"}); // what it has: nothing to change
    expect_refused({"up", "--max-ports", "0"}, "--max-ports: Value 0 not in range");

    flatpath({"endpoint", "add", c1().v4.str(), "--dev", c1().host_if, "--mac", c1().mac.str()});
    const std::string backend = c1().v4.str();
    flatpath({"dnat", "add", "tcp", "80", backend + ":80"});
    flatpath({"dnat", "add", "tcp", "81", backend + ":81"});
    expect_refused({"dnat", "add", "tcp", "82", backend + ":82"},
                   "no room for backend port " + backend + ":82 (at most 2 published backend ports: `flatpath up "
                   "--max-ports` sizes the table)");
    flatpath({"down"});
    flatpath({"up", "--uplink", topo->uplink()});
    for (const auto &m : flatpath_json({"status", "--json"})["maps"]) {
        if (m["map"] == FP_MAP_CT) {
            EXPECT_EQ(m["capacity"], FP_MAX_CT) << "a datapath brought up again takes the defaults";
        }
    }
}

// Maps pinned by another flatpath version (here: a conntrack table with another layout)
// are refused by name with the fix, instead of a verifier error or a misread table.
TEST_F(LifecycleTest, PinsOfAnotherVersionAreAClearError)
{
    start();
    flatpath({"down"});
    const std::string pin = lab->pin_root() + "/" FP_MAP_CT;
    ASSERT_TRUE(::mkdir(lab->pin_root().c_str(), 0700) == 0 || errno == EEXIST);
    const int fd = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, FP_MAP_CT, sizeof(fp_ct_key), 64, 1024, nullptr);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(bpf_obj_pin(fd, pin.c_str()), 0);
    ::close(fd);
    const CommandResult r = flatpath_result({"up", "--uplink", topo->uplink()});
    ::unlink(pin.c_str());
    ::rmdir(lab->pin_root().c_str());
    EXPECT_NE(r.status, 0);
    EXPECT_EQ(r.output, "flatpath: error: pinned map fp_ct is from another flatpath version (its type or layout "
                        "differs): run `flatpath down` and `flatpath up` again (tracked flows are lost)\n");
}

// A datapath an older flatpath made lacks the maps added since (here: the trace's): a
// command that needs the whole set says so in one line with the fix; `up` adds the maps,
// saying what it did, and forwarding and the commands go on; `down` takes an older
// datapath away whole as well.
TEST_F(LifecycleTest, AnOlderDatapathIsCompletedByUpAndTakenDownWhole)
{
    const Residue pristine = residue();
    start();
    const auto forget = [&](const char *map) { ASSERT_EQ(::unlink((lab->pin_root() + "/" + map).c_str()), 0); };
    forget(FP_MAP_TRACE_FILTER);
    forget(FP_MAP_TRACE_RING);
    const CommandResult refused = flatpath_result({"endpoint", "list"});
    EXPECT_NE(refused.status, 0);
    EXPECT_EQ(refused.output, "flatpath: error: the datapath at " + lab->pin_root() + " predates map " FP_MAP_TRACE_FILTER
                              " (an older flatpath made it): run `flatpath up` to add it\n");
    const std::string up = flatpath({"up"});
    EXPECT_NE(up.find("added map " FP_MAP_TRACE_FILTER ", which the datapath's older programs do not use"), std::string::npos) << up;
    EXPECT_NE(up.find("added map " FP_MAP_TRACE_RING), std::string::npos) << up;
    EXPECT_EQ(flatpath_result({"endpoint", "list"}).status, 0);
    EXPECT_EQ(ping(c1().ns, c2().v4.str(), 2), 2u);
    forget(FP_MAP_TRACE_CPU);
    flatpath({"down"});
    EXPECT_EQ(residue(), pristine);
}

// The pin root must be on a bpf filesystem: a clear error with the command that fixes it.
TEST_F(LifecycleTest, BpffsNotMounted)
{
    char dir[] = "/run/flatpath-nobpffs.XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    const CommandResult r = run_command(
        {"ip", "netns", "exec", topo->host_ns(), FLATPATH_BIN, "--pin-root", std::string(dir) + "/flatpath", "up"});
    const bool left_behind = std::filesystem::exists(std::string(dir) + "/flatpath");
    std::filesystem::remove_all(dir);
    EXPECT_NE(r.status, 0);
    EXPECT_EQ(r.output, "flatpath: error: " + std::string(dir) + " is not a bpf filesystem (mount it with: mount -t "
                        "bpf bpf " + dir + ")\n");
    EXPECT_FALSE(left_behind);
}

// Where the default pin root's parent, /sys/fs/bpf, is not mounted (as on these hosts
// without systemd), `up` mounts a bpf filesystem there with one line saying so, and the
// datapath comes up. `ip netns exec` gives the commands a mount namespace and a sysfs of
// their own, so the mount goes with them and the machine's /sys is never touched.
TEST_F(LifecycleTest, UpMountsBpffsOnSysFsBpfWhenMissing)
{
    const CommandResult r = run_command(
        {"ip", "netns", "exec", topo->host_ns(), "env", "-u", "FLATPATH_PIN_ROOT", "sh", "-c",
         std::string(FLATPATH_BIN) + " up --uplink uplink0 && stat -f -c %T /sys/fs/bpf && ls /sys/fs/bpf/flatpath; " +
             FLATPATH_BIN + " down"});
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("flatpath: warning: /sys/fs/bpf was not a bpf filesystem: mounted one there"),
              std::string::npos)
        << r.output;
    EXPECT_NE(r.output.find("bpf_fs"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("fp_endpoints"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("datapath removed"), std::string::npos) << r.output;
    EXPECT_EQ(host({"tc", "filter", "show", "dev", "uplink0", "ingress"}), "") << "down left a filter";
}

// An uplink's mode changes when asked: off takes the XDP program away (and the record
// says so, so `down` has nothing left to find); `up` without --xdp-mode leaves an
// attached uplink as it is.
TEST_F(LifecycleTest, XdpModeOffDetachesXdpAndUpWithoutAModeKeepsIt)
{
    const Residue pristine = residue();
    start("generic");
    EXPECT_EQ(residue().xdp, "uplink0");
    const std::string out = flatpath({"attach", "uplink0", "--role", "uplink", "--xdp-mode", "off"});
    EXPECT_NE(out.find("uplink0: tc only (--xdp-mode off)"), std::string::npos) << out;
    EXPECT_EQ(residue().xdp, "");
    flatpath({"attach", "uplink0", "--role", "uplink", "--xdp-mode", "generic"});
    const std::string again = flatpath({"up", "--uplink", "uplink0"});
    EXPECT_NE(again.find("uplink0: already an uplink, left as it is"), std::string::npos) << again;
    EXPECT_EQ(residue().xdp, "uplink0");
    flatpath({"attach", "uplink0", "--role", "uplink", "--xdp-mode", "off"});
    flatpath({"down"});
    EXPECT_EQ(residue(), pristine);
}

// Per-device sysctls of devices whose names have dots (as VLAN devices'
// uplink0.100) are read and written where sysctl(8) would.
TEST_F(LifecycleTest, SysctlsOfDottedDeviceNames)
{
    // No 8021q module on these hosts: a veth with a VLAN device's kind of name.
    host({"ip", "link", "add", "uplink0.100", "type", "veth", "peer", "name", "peer0.100"});
    const std::string name = conf_sysctl("ipv4", "uplink0.100", "rp_filter");
    run_in_netns(topo->host_ns(), [&] {
        sysctl_write(name, "2");
        return sysctl_read(name);
    });
    EXPECT_EQ(host({"sysctl", "-n", "net.ipv4.conf.uplink0/100.rp_filter"}), "2\n");
    EXPECT_EQ(host({"sysctl", "-n", "net.ipv4.conf.uplink0.rp_filter"}),
              run_in_netns(topo->host_ns(), [] { return sysctl_read("net.ipv4.conf.uplink0.rp_filter") + "\n"; }));
}

TEST_F(LifecycleTest, NotRoot)
{
    start();
    const CommandResult r = run_command({"ip", "netns", "exec", topo->host_ns(), "setpriv", "--reuid=65534",
                                         "--regid=65534", "--clear-groups", FLATPATH_BIN, "--pin-root",
                                         lab->pin_root(), "endpoint", "list"});
    EXPECT_NE(r.status, 0);
    EXPECT_EQ(r.output, "flatpath: error: flatpath must run as root (it loads BPF programs and changes network "
                        "devices)\n");
}

} // namespace
} // namespace fp::test

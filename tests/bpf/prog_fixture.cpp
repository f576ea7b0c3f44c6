#include "prog_fixture.hpp"

#include <arpa/inet.h>
#include <linux/if_ether.h>

#include "command.hpp"
#include "config_counts.hpp"
#include "test_world.hpp"
#include "error.hpp"
#include "counters.hpp"
#include "netdev.hpp"

namespace fp::test {

void ProgFixture::SetUpTestSuite()
{
    try {
        const ProgDevices devs = enter_prog_world();
        h1 = devs.h1;
        h2 = devs.h2;
        up0 = devs.up0;
        tun0 = devs.tun0;
        progs = std::make_unique<LoadedPrograms>(LoadedPrograms::load(""));
    } catch (const std::exception &e) {
        setup_error = e.what();
    }
}

void ProgFixture::TearDownTestSuite()
{
    progs.reset();
}

void ProgFixture::SetUp()
{
    ASSERT_EQ(setup_error, "") << "the test suite's setup failed";
    // Fresh map contents for every case: clear whatever the previous one left.
    maps = std::make_unique<MapSet>(MapSet::from_fds([](const char *name) { return progs->map_fd(name); }));
    const auto erase_all = [](auto &map) {
        for (const auto &[k, v] : map.entries())
            map.erase(k);
    };
    erase_all(maps->endpoints);
    erase_all(maps->ifaces);
    erase_all(maps->tx_devs);
    erase_all(maps->dnat);
    erase_all(maps->ranges);
    erase_all(maps->backends);
    erase_all(maps->local_addrs);
    erase_all(maps->ct);
    erase_all(maps->ct_new);
    erase_all(maps->marks);
    erase_all(maps->masq);
    erase_all(maps->masq_except);
    erase_all(maps->cluster);
    erase_all(maps->policy);
    erase_all(maps->policy_flows);
    maps->config.upsert(0, fp_config{});
}

namespace {

RunResult checked_run(int prog_fd, bool xdp, const Dev &dev, const Bytes &in)
{
    const ProgRun t = run_program(prog_fd, xdp, dev.ifindex, in);
    EXPECT_EQ(t.error, 0) << "bpf_prog_test_run_opts: " << std::strerror(t.error);
    return {t.retval, t.out, t.mark};
}

} // namespace

RunResult ProgFixture::run_tc(Program p, const Dev &dev, const Bytes &in)
{
    return checked_run(progs->prog_fd(p), false, dev, in);
}

RunResult ProgFixture::run_xdp(const Dev &dev, const Bytes &in)
{
    return checked_run(progs->prog_fd(Program::XdpUplink), true, dev, in);
}

std::uint64_t ProgFixture::reason_count(fp_hook hook, fp_reason reason)
{
    return sum_per_cpu(maps->reasons.per_cpu(reason_index(hook, reason))).packets;
}

fp_ep_stats ProgFixture::ep_counters(std::uint32_t slot)
{
    return sum_per_cpu(maps->ep_stats.per_cpu(slot));
}

void ProgFixture::add_endpoint(const Dev &dev, std::uint32_t slot, fp_ep_kind kind,
                               std::initializer_list<const char *> addrs)
{
    std::vector<IpAddr> parsed;
    for (const char *a : addrs)
        parsed.push_back(IpAddr::parse(a));
    // As the loader does when it gives a device its slot: the counters start at zero, not
    // at what an earlier case counted there.
    maps->ep_stats.clear(slot);
    register_endpoint(*maps, dev, slot, kind, parsed);
}

void ProgFixture::add_uplink(const Dev &dev)
{
    register_uplink(*maps, dev);
}

void ProgFixture::add_two_endpoints_and_uplink()
{
    add_endpoint(h1, 1, FP_EP_VETH, {"10.0.0.1", "fd00::1"});
    add_endpoint(h2, 2, FP_EP_VETH, {"10.0.0.2", "fd00::2"});
    add_uplink(up0);
}

void ProgFixture::add_host_addresses()
{
    for (const char *a : {"10.99.0.1", "fd99::1"})
        maps->local_addrs.upsert(fp_local_addr_key{IpAddr::parse(a).raw()}, 1);
}

void ProgFixture::add_masquerading_host()
{
    add_two_endpoints_and_uplink();
    add_host_addresses();
    maps->masq.upsert(fp_masq_key{96 + 24, IpAddr::parse("10.0.0.0").raw()}, fp_masq_rule{1, 0});
    maps->masq.upsert(fp_masq_key{64, IpAddr::parse("fd00::").raw()}, fp_masq_rule{2, 0});
    adjust_config(*maps, [](fp_config &c) {
        c.masq_rules = 2;
        c.masq_port_min = FP_MASQ_PORT_MIN_DEFAULT;
        c.masq_port_max = FP_MASQ_PORT_MAX_DEFAULT;
    });
}

void ProgFixture::expect(const RunResult &r, std::uint32_t verdict, const Packet &want)
{
    EXPECT_EQ(r.retval, verdict);
    const Bytes expected = want.bytes();
    EXPECT_EQ(r.out, expected) << hex_diff(expected, r.out);
}

fp_ct_key ProgFixture::ct_key(const IpAddr &s, std::uint16_t sp, const IpAddr &d, std::uint16_t dp,
                              std::uint8_t proto, fp_ct_dir dir)
{
    return fp_ct_key{s.raw(), d.raw(), htons(sp), htons(dp), proto, static_cast<__u8>(dir), {}};
}

std::optional<fp_ct_entry> ProgFixture::ct(const IpAddr &s, std::uint16_t sp, const IpAddr &d, std::uint16_t dp,
                                           std::uint8_t proto, fp_ct_dir dir)
{
    const fp_ct_key key = ct_key(s, sp, d, dp, proto, dir);
    auto e = maps->ct.lookup(key);
    return e ? e : maps->ct_new.lookup(key);
}

} // namespace fp::test

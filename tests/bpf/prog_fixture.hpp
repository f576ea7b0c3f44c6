// The real production programs, loaded fresh (unpinned) in a network namespace
// private to the test process, with real veth devices so that the kernel's
// test runs see real ifindexes and MACs.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <optional>

#include "flatpath_abi.h"
#include "map_set.hpp"
#include "packet.hpp"
#include "prog_world.hpp"
#include "programs.hpp"

namespace fp::test {

struct RunResult {
    std::uint32_t retval;
    Bytes out;
    std::uint32_t mark = 0; // tc: skb->mark after the program
};

class ProgFixture : public ::testing::Test {
protected:
    static void SetUpTestSuite();
    static void TearDownTestSuite();
    void SetUp() override;

    // Runs a tc program on `in` as if it arrived on dev; the output packet is returned.
    RunResult run_tc(Program p, const Dev &dev, const Bytes &in);
    RunResult run_xdp(const Dev &dev, const Bytes &in);
    // Counter of (hook, reason), summed over CPUs.
    std::uint64_t reason_count(fp_hook hook, fp_reason reason);
    fp_ep_stats ep_counters(std::uint32_t slot);

    // Registers an endpoint in the maps exactly as the loader does.
    void add_endpoint(const Dev &dev, std::uint32_t slot, fp_ep_kind kind, std::initializer_list<const char *> addrs);
    void add_uplink(const Dev &dev);
    // E1 (10.0.0.1, fd00::1) on h1 in slot 1, E2 (10.0.0.2, fd00::2) on h2 in slot 2, uplink up0.
    void add_two_endpoints_and_uplink();
    // up0's addresses (10.99.0.1, fd99::1) as the host's own, as the loader lists them.
    void add_host_addresses();
    // add_two_endpoints_and_uplink, add_host_addresses, and 10.0.0.0/24 (rule 1) and
    // fd00::/64 (rule 2) masqueraded with the default port range: a host whose
    // containers reach the LAN as the host.
    void add_masquerading_host();
    // The run's verdict is `verdict` and its output packet is want, byte for byte (a diff
    // when not).
    static void expect(const RunResult &r, std::uint32_t verdict, const Packet &want);
    static fp_ct_key ct_key(const IpAddr &s, std::uint16_t sp, const IpAddr &d, std::uint16_t dp, std::uint8_t proto,
                            fp_ct_dir dir);
    // The conntrack entry in whichever table holds it (a flow is in one: assured or new).
    std::optional<fp_ct_entry> ct(const IpAddr &s, std::uint16_t sp, const IpAddr &d, std::uint16_t dp,
                                  std::uint8_t proto, fp_ct_dir dir);

    static inline Dev h1, h2, up0, tun0;
    // Why the suite's setup failed; every test then fails with it (a fatal failure in
    // SetUpTestSuite would only mark the tests skipped).
    static inline std::string setup_error;
    static inline std::unique_ptr<LoadedPrograms> progs;
    std::unique_ptr<MapSet> maps;
};

} // namespace fp::test

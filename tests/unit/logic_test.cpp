// Map-wrapper and loader logic that needs no kernel: counter sums, reason names,
// slot allocation, rollback order, XDP mode names.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <string>

#include "attach.hpp"
#include "counters.hpp"
#include "error.hpp"
#include "rollback.hpp"
#include "slots.hpp"
#include "xdp_plan.hpp"

namespace fp {
namespace {

TEST(Counters, PerCpuValuesAreSummed)
{
    const std::vector<fp_ep_stats> cpus = {{1, 100, 2, 200}, {3, 300, 4, 400}};
    const fp_ep_stats t = sum_per_cpu(cpus);
    EXPECT_EQ(t.to_packets, 4u);
    EXPECT_EQ(t.to_bytes, 400u);
    EXPECT_EQ(t.from_packets, 6u);
    EXPECT_EQ(t.from_bytes, 600u);
    const fp_reason_stats r = sum_per_cpu(std::vector<fp_reason_stats>{{5, 50}, {0, 0}, {1, 10}});
    EXPECT_EQ(r.packets, 6u);
    EXPECT_EQ(r.bytes, 60u);
}

// The reasons come from FP_REASON_LIST alone: each has a unique value below
// FP_REASON_MAX, a unique name whose prefix says its class (drop_ from FP_DROP_FIRST
// on, pass_ below), and a meaning; values the list does not name have no name.
TEST(Counters, EveryReasonHasANameAndAClass)
{
    std::set<unsigned> values;
    std::set<std::string_view> names;
    for (const ReasonInfo &r : all_reasons()) {
        SCOPED_TRACE(std::string(r.name));
        EXPECT_GT(r.value, 0u);
        EXPECT_LT(r.value, static_cast<unsigned>(FP_REASON_MAX));
        EXPECT_TRUE(values.insert(r.value).second) << "value used twice";
        EXPECT_TRUE(names.insert(r.name).second) << "name used twice";
        EXPECT_EQ(reason_name(r.value), r.name);
        EXPECT_EQ(r.name.starts_with("drop_"), reason_is_drop(r.value));
        EXPECT_TRUE(r.name.starts_with("drop_") || r.name.starts_with("pass_"));
        EXPECT_FALSE(r.meaning.empty());
    }
    EXPECT_TRUE(values.contains(FP_DROP_FIRST)) << "the first drop reason starts the drop range";
    for (unsigned v = 0; v < FP_REASON_MAX; ++v) {
        if (!values.contains(v)) {
            EXPECT_TRUE(reason_name(v).empty()) << v;
        }
    }
}

// The README's table of reasons is FP_REASON_LIST's, row for row: a reason added,
// renamed or explained anew shows up there or this fails (and prints the table to paste).
TEST(Counters, ReadmeTableIsTheReasonList)
{
    std::ifstream readme(FP_SOURCE_DIR "/README.md");
    ASSERT_TRUE(readme) << FP_SOURCE_DIR "/README.md";
    std::string line, table;
    bool in_table = false;
    while (std::getline(readme, line)) {
        if (line == "| reason | meaning |") {
            in_table = true;
            std::getline(readme, line); // |---|---|
            continue;
        }
        if (in_table && !line.starts_with("|"))
            break;
        if (in_table)
            table += line + "\n";
    }
    std::string expected;
    for (const ReasonInfo &r : all_reasons())
        expected += "| `" + std::string(r.name) + "` | " + std::string(r.meaning) + " |\n";
    EXPECT_EQ(table, expected) << "README.md's reason table should be:\n" << expected;
}

TEST(Counters, ReasonIndexSeparatesHooks)
{
    EXPECT_EQ(reason_index(FP_HOOK_XDP_UPLINK, FP_PASS_TTL), static_cast<unsigned>(FP_PASS_TTL));
    EXPECT_EQ(reason_index(FP_HOOK_TC_ENDPOINT, 0), 2u * FP_REASON_MAX);
    EXPECT_LT(reason_index(FP_HOOK_MAX - 1, FP_REASON_MAX - 1), static_cast<unsigned>(FP_REASON_ENTRIES));
}

TEST(Slots, LowestFreeSlotSkipsZeroAndFillsGaps)
{
    EXPECT_EQ(lowest_free_slot({}, 10), 1u);
    EXPECT_EQ(lowest_free_slot({1, 2, 3}, 10), 4u);
    EXPECT_EQ(lowest_free_slot({3, 1, 4}, 10), 2u);
    EXPECT_EQ(lowest_free_slot({0, 1}, 10), 2u);
}

TEST(Slots, FullTableIsAClearError)
{
    EXPECT_THROW(lowest_free_slot({1, 2, 3}, 4), Error);
}

TEST(Rollback, UndoesInReverseUnlessCommitted)
{
    std::vector<int> order;
    {
        Rollback r;
        r.push("one", [&] { order.push_back(1); });
        r.push("two", [&] { order.push_back(2); });
    }
    EXPECT_EQ(order, (std::vector<int>{2, 1}));
    order.clear();
    {
        Rollback r;
        r.push("one", [&] { order.push_back(1); });
        r.commit();
    }
    EXPECT_TRUE(order.empty());
}

TEST(Rollback, AFailingUndoDoesNotStopTheOthers)
{
    std::vector<int> order;
    {
        Rollback r;
        r.push("one", [&] { order.push_back(1); });
        r.push("broken", [] { throw Error("gone"); });
    }
    EXPECT_EQ(order, (std::vector<int>{1}));
}

TEST(XdpMode, NamesAreParsed)
{
    EXPECT_EQ(parse_xdp_mode("native"), XdpMode::Native);
    EXPECT_EQ(parse_xdp_mode("generic"), XdpMode::Generic);
    EXPECT_EQ(parse_xdp_mode("auto"), XdpMode::Auto);
    EXPECT_THROW(parse_xdp_mode("offload"), Error);
}

// What each --xdp-mode gives a NIC and a software device: auto is native (tc only where
// the driver has none) on a NIC and tc only on veth, tun and the like; native on a
// software device still attaches, with the warning; off and generic are what they say.
TEST(XdpMode, PlanPerDeviceKind)
{
    NetDev veth;
    veth.name = "uplink0";
    veth.type = "veth";
    NetDev nic;
    nic.name = "eth0";
    struct Row {
        XdpMode mode;
        const NetDev *dev;
        bool wired;
        XdpPlacement placement;
        bool fallback;
        bool warns;
    };
    const Row rows[] = {
        {XdpMode::Auto, &nic, true, XdpPlacement::Native, true, false},
        {XdpMode::Auto, &veth, false, XdpPlacement::None, false, false},
        {XdpMode::Native, &nic, true, XdpPlacement::Native, false, false},
        {XdpMode::Native, &veth, false, XdpPlacement::Native, false, true},
        {XdpMode::Generic, &veth, false, XdpPlacement::Generic, false, false},
        {XdpMode::Off, &nic, true, XdpPlacement::None, false, false},
    };
    for (const Row &r : rows) {
        SCOPED_TRACE(r.dev->name + " mode " + std::to_string(static_cast<int>(r.mode)));
        const XdpPlan p = plan_xdp(r.mode, *r.dev, r.wired);
        EXPECT_EQ(p.placement, r.placement);
        EXPECT_EQ(p.none_if_unsupported, r.fallback);
        EXPECT_EQ(!p.warning.empty(), r.warns) << p.warning;
        EXPECT_NE(p.note.find(r.dev->name + ": "), std::string::npos) << p.note;
    }
    EXPECT_NE(plan_xdp(XdpMode::Auto, veth, false).note.find("tc only (a veth device"), std::string::npos);
    EXPECT_NE(native_xdp_warning(veth, false).find("checksum offload"), std::string::npos);
    EXPECT_EQ(native_xdp_warning(nic, true), "");
}

} // namespace
} // namespace fp

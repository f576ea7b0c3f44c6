// Map-wrapper and loader logic that needs no kernel: counter sums, reason names,
// slot allocation, rollback order, XDP mode names.
#include <gtest/gtest.h>

#include "attach.hpp"
#include "counters.hpp"
#include "error.hpp"
#include "rollback.hpp"
#include "slots.hpp"

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

TEST(Counters, EveryReasonHasANameAndAClass)
{
    for (unsigned r : {FP_PASS_NOT_IP, FP_PASS_NO_ENDPOINT, FP_PASS_TTL, FP_PASS_VLAN, FP_PASS_LINK_LOCAL,
                       FP_PASS_IPV6_HOP_BY_HOP, FP_PASS_KIND, FP_PASS_NOT_FOR_HOST, FP_PASS_FRAGMENT,
                       FP_PASS_ICMP_ERROR}) {
        EXPECT_FALSE(reason_name(r).empty()) << r;
        EXPECT_FALSE(reason_is_drop(r)) << r;
    }
    for (unsigned r : {FP_DROP_SPOOF_MAC, FP_DROP_SPOOF_IP, FP_DROP_MALFORMED, FP_DROP_NOT_ENDPOINT, FP_DROP_REDIRECT,
                       FP_DROP_CT_FULL, FP_DROP_NAT}) {
        EXPECT_TRUE(reason_name(r).starts_with("drop_")) << r;
        EXPECT_TRUE(reason_is_drop(r)) << r;
    }
    EXPECT_TRUE(reason_name(FP_REASON_MAX - 1).empty());
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

} // namespace
} // namespace fp

// Address and MAC parsing: what `flatpath endpoint add` accepts and refuses.
#include <gtest/gtest.h>

#include "error.hpp"
#include "ip_addr.hpp"
#include "ip_prefix.hpp"
#include "mac_addr.hpp"

namespace fp {
namespace {

TEST(IpAddr, IPv4IsStoredMappedSoOneKeyServesBothFamilies)
{
    const IpAddr a = IpAddr::parse("10.1.2.3");
    EXPECT_TRUE(a.is_v4());
    const unsigned char want[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3};
    EXPECT_EQ(std::memcmp(a.raw().b, want, 16), 0);
    EXPECT_EQ(a.str(), "10.1.2.3");
}

TEST(IpAddr, IPv6RoundTrips)
{
    const IpAddr a = IpAddr::parse("fd00::1:2");
    EXPECT_FALSE(a.is_v4());
    EXPECT_EQ(a.raw().b[0], 0xfd);
    EXPECT_EQ(a.str(), "fd00::1:2");
}

TEST(IpAddr, RejectsWhatIsNotOneAddress)
{
    for (const char *bad : {"", "10.0.0", "10.0.0.256", "1.2.3.4.5", "10.0.0.1/24", "fe80::1%eth0", "host",
                            "::ffff:10.0.0.1", " 10.0.0.1"}) {
        try {
            IpAddr::parse(bad);
            ADD_FAILURE() << "accepted '" << bad << "'";
        } catch (const Error &e) {
            EXPECT_NE(std::string(e.what()).find(std::string("'") + bad + "'"), std::string::npos)
                << "the error should quote the input: " << e.what();
        }
    }
}

TEST(IpAddr, OrdersAndCompares)
{
    EXPECT_EQ(IpAddr::parse("10.0.0.1"), IpAddr::parse("10.0.0.1"));
    EXPECT_LT(IpAddr::parse("10.0.0.1"), IpAddr::parse("10.0.0.2"));
    EXPECT_NE(IpAddr::parse("::1"), IpAddr::parse("::2"));
}

TEST(MacAddr, ParsesBothSeparatorsAndPrintsLowercase)
{
    EXPECT_EQ(MacAddr::parse("02:AB:cd:00:00:01").str(), "02:ab:cd:00:00:01");
    EXPECT_EQ(MacAddr::parse("02-ab-cd-00-00-01"), MacAddr::parse("02:ab:cd:00:00:01"));
}

TEST(MacAddr, RejectsMalformed)
{
    for (const char *bad : {"", "02:ab:cd:00:00", "02:ab:cd:00:00:01:02", "02:ab:cd:00:00:0g", "02ab:cd:00:00:01:"})
        EXPECT_THROW(MacAddr::parse(bad), Error) << bad;
}

TEST(MacAddr, KnowsMulticastAndZero)
{
    EXPECT_TRUE(MacAddr::parse("01:00:5e:00:00:01").is_multicast());
    EXPECT_FALSE(MacAddr::parse("02:00:00:00:00:01").is_multicast());
    EXPECT_TRUE(MacAddr().is_zero());
}

// A prefix is kept with its host bits cleared, in its own family's length; the LPM
// tries see IPv4 on the mapped form (96 more bits).
TEST(IpPrefix, ParsesAndRefusesHostBitsAndBadLengths)
{
    const IpPrefix p = IpPrefix::parse("10.88.0.0/16");
    EXPECT_EQ(p.str(), "10.88.0.0/16");
    EXPECT_EQ(p.len128(), 112);
    EXPECT_EQ(IpPrefix::parse("fd88::/64").len128(), 64);
    EXPECT_EQ(IpPrefix::of(IpAddr::parse("10.88.3.4"), 16), p);
    for (const char *bad : {"10.88.0.1/16", "10.88.0.0/33", "10.88.0.0", "10.88.0.0/", "10.88.0.0/x", "fd88::/129"})
        EXPECT_THROW(IpPrefix::parse(bad), Error) << bad;
}

TEST(IpPrefix, KnowsItsLastAddressAndWhatItHoldsOrOverlaps)
{
    EXPECT_EQ(IpPrefix::parse("10.88.0.0/16").last(), IpAddr::parse("10.88.255.255"));
    EXPECT_EQ(IpPrefix::parse("10.88.0.0/31").last(), IpAddr::parse("10.88.0.1"));
    EXPECT_EQ(IpPrefix::parse("fd88::/64").last(), IpAddr::parse("fd88::ffff:ffff:ffff:ffff"));
    const IpPrefix p = IpPrefix::parse("10.88.0.0/16");
    EXPECT_TRUE(p.contains(IpAddr::parse("10.88.200.1")));
    EXPECT_FALSE(p.contains(IpAddr::parse("10.89.0.1")));
    EXPECT_FALSE(p.contains(IpAddr::parse("fd88::1")));
    EXPECT_TRUE(p.overlaps(IpPrefix::parse("10.88.7.0/24")));
    EXPECT_TRUE(IpPrefix::parse("10.88.7.0/24").overlaps(p));
    EXPECT_TRUE(p.overlaps(IpPrefix::parse("10.0.0.0/8")));
    EXPECT_FALSE(p.overlaps(IpPrefix::parse("10.89.0.0/16")));
    EXPECT_FALSE(IpPrefix::parse("0.0.0.0/0").overlaps(IpPrefix::parse("::/0"))) << "families never overlap";
}

} // namespace
} // namespace fp

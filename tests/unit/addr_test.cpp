// Address and MAC parsing: what `flatpath endpoint add` accepts and refuses.
#include <gtest/gtest.h>

#include "error.hpp"
#include "ip_addr.hpp"
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

} // namespace
} // namespace fp

// Base64 as etcd's gateway writes it: RFC 4648's test vectors both ways, any byte, and
// nothing but canonical padded text accepted.
#include <gtest/gtest.h>

#include "base64.hpp"

namespace fp {
namespace {

TEST(Base64, RfcVectorsRoundTrip)
{
    const std::pair<std::string, std::string> vectors[] = {
        {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
    };
    for (const auto &[plain, encoded] : vectors) {
        EXPECT_EQ(base64_encode(plain), encoded);
        EXPECT_EQ(base64_decode(encoded), plain);
    }
    std::string all;
    for (int b = 0; b < 256; ++b)
        all += static_cast<char>(b);
    EXPECT_EQ(base64_decode(base64_encode(all)), all);
}

TEST(Base64, RefusesWhatIsNotCanonical)
{
    for (const char *bad : {"Zg", "Zg=", "Z===", "Zh==", "Zm9", "Zm9v!A==", "=Zm9", "Zm=v"})
        EXPECT_FALSE(base64_decode(bad).has_value()) << bad;
}

} // namespace
} // namespace fp

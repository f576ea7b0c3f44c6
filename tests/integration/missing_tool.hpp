// A tool a test needs is missing: a skip with the reason on a developer's machine, a
// failure in CI (CI=true), where ./quickstart installs everything and a skip would hide
// a broken install step behind a green run.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace fp::test {

inline bool running_in_ci()
{
    const char *ci = std::getenv("CI");
    return ci && std::string(ci) == "true";
}

} // namespace fp::test

// Returns from the calling function (SetUp or the test) when `present` is false.
#define FP_REQUIRE_TOOL(present, what)                                                                   \
    do {                                                                                                 \
        if (!(present)) {                                                                                \
            if (::fp::test::running_in_ci())                                                             \
                FAIL() << (what) << " is not installed, and CI=true: ./quickstart should have installed it"; \
            else                                                                                         \
                GTEST_SKIP() << (what) << " is not installed (./quickstart installs it)";                \
        }                                                                                                \
    } while (0)

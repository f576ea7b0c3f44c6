// The daemon's records of what it added survive a restart exactly, and refuse a
// container ID that could name a path outside their directory.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "daemon_records.hpp"
#include "error.hpp"
#include "temp_dir.hpp"

namespace fp {
namespace {

TEST(DaemonRecords, RoundTripEraseAndRefusals)
{
    const test::TempDir temp("records");
    const std::string dir = temp.path() + "/containers";
    {
        const DaemonRecords records(dir);
        AppliedState s;
        s.name = "web";
        s.endpoints = {IpAddr::parse("10.88.0.5")};
        s.dnat = {DnatRule{IpAddr::parse("0.0.0.0"), 17, {8000, 8010}, IpAddr::parse("10.88.0.5"), {8000, 8010}}};
        s.marks = {MarkRule{IpAddr::parse("10.88.0.5"), 6, 443, FP_MARK_SOURCE, MarkValue{0x10, 0xff}}};
        const std::string id(64, 'b');
        records.save(id, s);
        std::ofstream(dir + "/cccc.json") << "{not json";
        const auto loaded = DaemonRecords(dir).load_all();
        ASSERT_EQ(loaded.size(), 1u) << "the unreadable record is skipped";
        const AppliedState &back = loaded.at(id);
        EXPECT_EQ(back.name, "web");
        EXPECT_EQ(back.endpoints, s.endpoints);
        EXPECT_EQ(back.dnat, s.dnat);
        EXPECT_EQ(back.marks, s.marks);
        records.erase(id);
        EXPECT_TRUE(records.load_all().empty());
        EXPECT_THROW(records.save("../escape", s), Error);
        EXPECT_THROW(records.save("", s), Error);
    }
}

} // namespace
} // namespace fp

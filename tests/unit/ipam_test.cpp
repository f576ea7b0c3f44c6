// flatpath-cni's built-in IPAM: pools, leases, and many processes allocating at once.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "cni_error.hpp"
#include "cni_error_code.hpp"
#include "ipam_store.hpp"
#include "temp_dir.hpp"

namespace fp::cni {
namespace {

class IpamTest : public ::testing::Test {
protected:
    const test::TempDir temp{"ipam-test"};
    const std::string dir = temp.path();
};

TEST(IpPool, ParsesAndRefusesSubnetsAndRanges)
{
    const IpPool p = IpPool::parse("10.88.0.0/16");
    EXPECT_EQ(p.first().str(), "10.88.0.1");
    EXPECT_EQ(p.last().str(), "10.88.255.254");
    EXPECT_EQ(p.size(), 65534u);
    EXPECT_EQ(IpPool::parse("fd88::/120").last().str(), "fd88::ff");
    EXPECT_EQ(code_of([] { IpPool::parse("10.88.0.0"); }), 7);
    EXPECT_EQ(code_of([] { IpPool::parse("10.88.0.1/16"); }), 7) << "host bits set";
    EXPECT_EQ(code_of([] { IpPool::parse("10.88.0.0/31"); }), 7);
    EXPECT_EQ(code_of([] { IpPool::parse("10.88.0.0/x"); }), 7);
    EXPECT_EQ(code_of([] { IpPool::parse("banana/16"); }), 7);
    EXPECT_EQ(code_of([] { IpPool::parse("10.88.0.0/24", "10.89.0.1", "10.88.0.9"); }), 7) << "outside";
    EXPECT_EQ(code_of([] { IpPool::parse("10.88.0.0/24", "10.88.0.9", "10.88.0.1"); }), 7) << "reversed";
}

TEST(IpPool, ReservedAddressesAreNotUsable)
{
    const IpPool p = IpPool::parse("10.88.0.0/24", "", "", "10.88.0.1");
    EXPECT_FALSE(p.usable(IpAddr::parse("10.88.0.0")));
    EXPECT_FALSE(p.usable(IpAddr::parse("10.88.0.1"))) << "gateway";
    EXPECT_FALSE(p.usable(IpAddr::parse("10.88.0.255")));
    EXPECT_FALSE(p.usable(IpAddr::parse("10.88.1.5")));
    EXPECT_FALSE(p.usable(IpAddr::parse("fd88::5")));
    EXPECT_TRUE(p.usable(IpAddr::parse("10.88.0.2")));
}

TEST_F(IpamTest, AllocatesInOrderAndReusesLate)
{
    const IpPool p = IpPool::parse("10.88.0.0/29"); // .1-.6
    IpamStore s(dir);
    EXPECT_EQ(s.allocate(p, "a", "eth0", {}).str(), "10.88.0.1");
    EXPECT_EQ(s.allocate(p, "b", "eth0", {}).str(), "10.88.0.2");
    EXPECT_EQ(s.allocate(p, "a", "eth0", {}).str(), "10.88.0.1") << "the same owner gets its lease back";
    EXPECT_EQ(s.release("a", "eth0").size(), 1u);
    EXPECT_EQ(s.allocate(p, "c", "eth0", {}).str(), "10.88.0.3") << "a freed address is reused last";
    EXPECT_TRUE(s.release("nobody", "eth0").empty()) << "releasing nothing is fine";
}

TEST_F(IpamTest, RequestedAddresses)
{
    const IpPool p = IpPool::parse("fd88::/120");
    IpamStore s(dir);
    EXPECT_EQ(s.allocate(p, "a", "eth0", IpAddr::parse("fd88::42")).str(), "fd88::42");
    EXPECT_EQ(code_of([&] { s.allocate(p, "b", "eth0", IpAddr::parse("fd88::42")); }), 101) << "in use";
    EXPECT_EQ(code_of([&] { s.allocate(p, "b", "eth0", IpAddr::parse("fd89::1")); }), 7) << "outside";
    EXPECT_EQ(code_of([&] { s.allocate(p, "b", "eth0", IpAddr::parse("fd88::")); }), 7) << "network address";
}

TEST_F(IpamTest, ExhaustedPoolIsError100)
{
    const IpPool p = IpPool::parse("10.88.0.0/30"); // .1 and .2
    IpamStore s(dir);
    s.allocate(p, "a", "eth0", {});
    s.allocate(p, "b", "eth0", {});
    EXPECT_EQ(code_of([&] { s.allocate(p, "c", "eth0", {}); }), 100);
}

// Fifty processes allocate at once: fifty distinct addresses, then none left after release.
// An owner's leases are found through its index entry (owners/), which goes with its
// last lease; a lease file alone (another version's store) is indexed when the store opens.
TEST_F(IpamTest, OwnersAreFoundThroughTheirIndexEntry)
{
    const IpPool p = IpPool::parse("10.88.0.0/24");
    {
        IpamStore s(dir);
        EXPECT_EQ(s.allocate(p, "a", "eth0", {}).str(), "10.88.0.1");
        EXPECT_EQ(s.allocate(p, "b", "eth0", {}).str(), "10.88.0.2");
        EXPECT_TRUE(std::filesystem::exists(dir + "/owners/a@eth0"));
        EXPECT_EQ(s.leased_to("b", "eth0"), std::vector<IpAddr>{IpAddr::parse("10.88.0.2")});
        EXPECT_EQ(s.release("a", "eth0"), std::vector<IpAddr>{IpAddr::parse("10.88.0.1")});
        EXPECT_FALSE(std::filesystem::exists(dir + "/owners/a@eth0")) << "the entry goes with the last lease";
    }
    // A store written before the index: leases only.
    std::filesystem::remove_all(dir + "/owners");
    std::ofstream(dir + "/10.88.0.9") << "old\neth0\n";
    IpamStore s(dir);
    EXPECT_EQ(s.allocate(p, "old", "eth0", {}).str(), "10.88.0.9") << "the old lease is found again";
    EXPECT_EQ(s.leased_to("b", "eth0"), std::vector<IpAddr>{IpAddr::parse("10.88.0.2")});
    EXPECT_EQ(s.release("old", "eth0"), std::vector<IpAddr>{IpAddr::parse("10.88.0.9")});
}

// Owners whose IDs share a file name ("a/b" and "a_b": the name keeps safe characters
// only) each get their own lease back and free only their own; an index entry whose lease
// was never written (a crash between the two) is no lease.
TEST_F(IpamTest, CollidingOwnerNamesAndEntriesWithoutLeases)
{
    const IpPool p = IpPool::parse("10.88.0.0/24");
    IpamStore s(dir);
    const IpAddr first = s.allocate(p, "a/b", "eth0", {}), second = s.allocate(p, "a_b", "eth0", {});
    EXPECT_NE(first, second);
    EXPECT_EQ(s.allocate(p, "a/b", "eth0", {}), first);
    EXPECT_EQ(s.allocate(p, "a_b", "eth0", {}), second);
    EXPECT_EQ(s.release("a_b", "eth0"), std::vector<IpAddr>{second});
    EXPECT_EQ(s.leased_to("a/b", "eth0"), std::vector<IpAddr>{first});
    EXPECT_EQ(s.release("a/b", "eth0"), std::vector<IpAddr>{first});

    std::ofstream(dir + "/owners/c@eth0") << "c\neth0\n10.88.0.77\n";
    EXPECT_TRUE(s.leased_to("c", "eth0").empty());
    EXPECT_NE(s.allocate(p, "c", "eth0", {}).str(), "10.88.0.77");
}

TEST_F(IpamTest, ConcurrentProcessesNeverShareAnAddress)
{
    const IpPool p = IpPool::parse("10.88.0.0/24");
    std::vector<pid_t> kids;
    for (int i = 0; i < 50; ++i) {
        const pid_t pid = ::fork();
        if (pid == 0) {
            try {
                IpamStore(dir).allocate(p, "c" + std::to_string(i), "eth0", {});
                ::_exit(0);
            } catch (...) {
                ::_exit(1);
            }
        }
        kids.push_back(pid);
    }
    for (pid_t k : kids) {
        int st = 0;
        ::waitpid(k, &st, 0);
        EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    std::set<IpAddr> addrs;
    for (const Lease &l : IpamStore(dir).leases())
        addrs.insert(l.addr);
    EXPECT_EQ(addrs.size(), 50u);
    for (int i = 0; i < 50; ++i)
        IpamStore(dir).release("c" + std::to_string(i), "eth0");
    EXPECT_TRUE(IpamStore(dir).leases().empty());
}

} // namespace
} // namespace fp::cni

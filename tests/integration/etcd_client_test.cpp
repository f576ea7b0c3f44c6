// The etcd client against a real etcd (Debian's etcd-server) in a namespace of the
// test's own: what the cluster member relies on — a create that only one caller wins,
// leases that take their keys with them, watches that see every change with its
// revision, tell a compacted start from a lost stream, and endpoints tried in turn.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <thread>

#include "error.hpp"
#include "etcd_client.hpp"
#include "etcd_server.hpp"
#include "eventually.hpp"
#include "http_transport.hpp"
#include "lab.hpp"
#include "missing_tool.hpp"
#include "netns_scope.hpp"

namespace fp {
namespace {

namespace fs = std::filesystem;
using test::eventually;

class EtcdClientTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        FP_REQUIRE_TOOL(fs::exists("/usr/bin/etcd"), "etcd-server");
        lab = std::make_unique<Lab>("etcd");
        ns = lab->add_netns("store");
        char tmpl[] = "/tmp/flatpath-etcd-test.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir = tmpl;
        etcd = std::make_unique<EtcdServer>(ns, "127.0.0.1", 23790, dir + "/data");
    }
    void TearDown() override
    {
        etcd.reset();
        lab.reset();
        if (!dir.empty())
            fs::remove_all(dir);
    }
    // The store's history up to revision forgotten, as an operator's compaction does.
    void compact(std::int64_t revision)
    {
        NetnsScope in(ns);
        HttpRequest req;
        req.method = "POST";
        req.url = etcd->url() + "/v3/kv/compaction";
        req.body = "{\"revision\":\"" + std::to_string(revision) + "\"}";
        req.what = "compact";
        std::string body;
        ASSERT_EQ(http_perform(req, body).status, 200) << body;
    }

    std::unique_ptr<Lab> lab;
    std::string ns, dir;
    std::unique_ptr<EtcdServer> etcd;
};

// Scenario: keys with any bytes go in and come back; create succeeds once and leaves
// the first value; a prefix lists only its own keys, in key order.
TEST_F(EtcdClientTest, CreateSucceedsOnceAndPrefixesListTheirOwnKeys)
{
    NetnsScope in(ns);
    const EtcdClient c({etcd->url()});
    EXPECT_FALSE(c.get("/fp/a").has_value());
    EXPECT_TRUE(c.create("/fp/a", "first"));
    EXPECT_FALSE(c.create("/fp/a", "second"));
    EXPECT_EQ(c.get("/fp/a")->value, "first");
    c.put("/fp/b", std::string("\0\xff bytes", 8));
    c.put("/fpx", "outside the prefix");
    const EtcdRange r = c.get_prefix("/fp/");
    ASSERT_EQ(r.kvs.size(), 2u);
    EXPECT_EQ(r.kvs[0].key, "/fp/a");
    EXPECT_EQ(r.kvs[1].value, std::string("\0\xff bytes", 8));
    EXPECT_GE(r.revision, r.kvs[1].mod_revision);
    EXPECT_TRUE(c.erase("/fp/a"));
    EXPECT_FALSE(c.erase("/fp/a"));
}

// Scenario: a key under a lease lives while the lease is renewed and goes when it is
// not; a lease that expired renews to 0 and has no time left.
TEST_F(EtcdClientTest, AKeyGoesWithItsExpiredLease)
{
    NetnsScope in(ns);
    const EtcdClient c({etcd->url()});
    const std::int64_t lease = c.grant(2);
    ASSERT_TRUE(c.create("/fp/leased", "v", lease));
    EXPECT_EQ(c.get("/fp/leased")->lease, lease);
    for (int i = 0; i < 4; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(700));
        EXPECT_GT(c.keep_alive(lease), 0);
    }
    EXPECT_TRUE(c.get("/fp/leased").has_value()) << "renewed for 2.8 s, past its 2 s TTL";
    EXPECT_TRUE(eventually([&] { return !c.get("/fp/leased").has_value(); }, 10));
    EXPECT_FALSE(c.time_to_live(lease).has_value());
    EXPECT_EQ(c.keep_alive(lease), 0);
    const std::int64_t other = c.grant(30);
    c.revoke(other);
    EXPECT_FALSE(c.time_to_live(other).has_value());
}

// Scenario: a watch from a revision sees the puts and deletes after it, in order, each
// batch with the revision to resume from; a watch from a compacted revision says so
// instead of hanging (the gateway keeps a cancelled watch's stream open).
TEST_F(EtcdClientTest, AWatchSeesChangesAndTellsACompactedStart)
{
    NetnsScope in(ns);
    const EtcdClient c({etcd->url()});
    const std::int64_t start = c.get_prefix("/fp/").revision + 1;
    c.put("/fp/x", "1");
    c.put("/elsewhere", "not watched");
    c.erase("/fp/x");
    std::vector<EtcdEvent> seen;
    std::int64_t resume = 0;
    const EtcdWatchEnd end = c.watch_prefix("/fp/", start, [&](const std::vector<EtcdEvent> &events, std::int64_t next) {
        seen.insert(seen.end(), events.begin(), events.end());
        resume = next;
        return seen.size() < 2;
    }, nullptr);
    EXPECT_EQ(end.why, EtcdWatchEnd::Why::Stopped);
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_FALSE(seen[0].deleted);
    EXPECT_EQ(seen[0].kv.value, "1");
    EXPECT_TRUE(seen[1].deleted);
    EXPECT_EQ(seen[1].kv.key, "/fp/x");
    EXPECT_EQ(resume, seen[1].kv.mod_revision + 1);

    const std::int64_t now = c.get_prefix("/").revision;
    compact(now);
    const EtcdWatchEnd compacted = c.watch_prefix("/fp/", start, [](const auto &, std::int64_t) { return true; }, nullptr);
    EXPECT_EQ(compacted.why, EtcdWatchEnd::Why::Compacted) << compacted.detail;
}

// Scenario: etcd killed under a watch ends it as lost (not stopped, no exception); after
// a restart on the same data a watch from the revision it gave sees what came after.
TEST_F(EtcdClientTest, AWatchEndsWhenEtcdDiesAndResumesAfterARestart)
{
    std::atomic<bool> stop{false};
    EtcdWatchEnd end;
    std::int64_t from = 0;
    {
        NetnsScope in(ns);
        from = EtcdClient({etcd->url()}).get_prefix("/").revision + 1;
    }
    std::thread watcher([&] {
        NetnsScope in(ns);
        end = EtcdClient({etcd->url()}).watch_prefix("/fp/", from, [](const auto &, std::int64_t) { return true; }, &stop);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    etcd->kill();
    watcher.join();
    EXPECT_EQ(end.why, EtcdWatchEnd::Why::Lost) << end.detail;
    EXPECT_EQ(end.next_revision, from);

    etcd->start();
    NetnsScope in(ns);
    const EtcdClient c({etcd->url()});
    c.put("/fp/after", "restart");
    std::vector<EtcdEvent> seen;
    c.watch_prefix("/fp/", end.next_revision, [&](const std::vector<EtcdEvent> &events, std::int64_t) {
        seen = events;
        return false;
    }, nullptr);
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].kv.key, "/fp/after");
}

// Scenario: an endpoint that refuses is skipped for the next; with none reachable the
// error names each one; nonsense endpoints are refused up front.
TEST_F(EtcdClientTest, EndpointsAreTriedInTurn)
{
    NetnsScope in(ns);
    const EtcdClient both({"http://127.0.0.1:1", etcd->url()});
    both.put("/fp/k", "v");
    EXPECT_EQ(both.current_endpoint(), etcd->url());
    EXPECT_EQ(both.get("/fp/k")->value, "v");

    const EtcdClient none({"http://127.0.0.1:1", "http://127.0.0.1:2"});
    try {
        none.get("/fp/k");
        ADD_FAILURE() << "no endpoint answers";
    } catch (const Error &e) {
        EXPECT_NE(std::string(e.what()).find("127.0.0.1:1"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("127.0.0.1:2"), std::string::npos) << e.what();
    }
    EXPECT_THROW(EtcdClient({"127.0.0.1:2379"}), Error);
    EXPECT_THROW(EtcdClient(std::vector<std::string>{}), Error);
}

} // namespace
} // namespace fp

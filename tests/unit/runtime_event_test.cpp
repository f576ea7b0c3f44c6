// Event lines as Podman and Docker write them, and the garbage a stream can carry: each
// becomes the event the daemon acts on, or is refused with a reason (never a crash).
#include <gtest/gtest.h>

#include "runtime_event.hpp"

namespace fp {
namespace {

struct Row {
    const char *what;
    const char *line;
    bool parsed;
    EventKind kind;
    const char *container;
};

TEST(RuntimeEvent, PodmanDockerAndGarbage)
{
    const Row rows[] = {
        {"podman start",
         R"({"ID":"abc","Image":"","Name":"web","Status":"start","Type":"container","Action":"start","Actor":{"ID":"abc","Attributes":{"name":"web","network.enable":"true"}},"time":1})",
         true, EventKind::Start, "abc"},
        {"podman died", R"({"Type":"container","Action":"died","Actor":{"ID":"abc","Attributes":{}}})", true,
         EventKind::Died, "abc"},
        {"docker die", R"({"status":"die","id":"d1","Type":"container","Action":"die","Actor":{"ID":"d1","Attributes":{"exitCode":"0"}}})",
         true, EventKind::Died, "d1"},
        {"podman remove", R"({"Type":"container","Action":"remove","Actor":{"ID":"abc"}})", true, EventKind::Removed,
         "abc"},
        {"docker destroy", R"({"Type":"container","Action":"destroy","Actor":{"ID":"d1"}})", true, EventKind::Removed,
         "d1"},
        {"docker network connect",
         R"({"Type":"network","Action":"connect","Actor":{"ID":"net1","Attributes":{"container":"d1","name":"bridge"}}})",
         true, EventKind::NetworkConnect, "d1"},
        {"network disconnect", R"({"Type":"network","Action":"disconnect","Actor":{"ID":"net1","Attributes":{"container":"d1"}}})",
         true, EventKind::NetworkDisconnect, "d1"},
        // Podman 4.3, as its service sent it: the actor is the container itself.
        {"podman network connect",
         R"({"status":"connect","id":"25f2","Type":"network","Action":"connect","Actor":{"ID":"25f2","Attributes":{"containerExitCode":"0","image":"","name":"multi","podId":""}},"scope":"local","time":1})",
         true, EventKind::NetworkConnect, "25f2"},
        {"unknown type", R"({"Type":"image","Action":"pull","Actor":{"ID":"img"}})", true, EventKind::Other, "img"},
        {"truncated line", R"({"Type":"container","Action":"sta)", false, EventKind::Other, ""},
        {"not an object", "[1,2]", false, EventKind::Other, ""},
        {"empty line", "", false, EventKind::Other, ""},
        {"no Actor", R"({"Type":"container","Action":"start"})", false, EventKind::Other, ""},
        {"Actor.ID not a string", R"({"Type":"container","Action":"start","Actor":{"ID":5}})", false, EventKind::Other, ""},
    };
    for (const Row &r : rows) {
        SCOPED_TRACE(r.what);
        std::string why;
        const auto e = parse_runtime_event(r.line, &why);
        ASSERT_EQ(e.has_value(), r.parsed) << why;
        if (!e) {
            EXPECT_FALSE(why.empty());
            continue;
        }
        EXPECT_EQ(e->kind, r.kind);
        EXPECT_EQ(e->container_id, r.container);
    }
    std::string why;
    const auto start = parse_runtime_event(rows[0].line, &why);
    EXPECT_EQ(start->attributes.at("network.enable"), "true");
    EXPECT_EQ(start->attributes.at("name"), "web");
}

} // namespace
} // namespace fp

// What flatpath-cni accepts from a runtime: environment and stdin, and the spec's
// error codes for what it refuses.
#include <gtest/gtest.h>

#include <map>

#include "cni_error.hpp"
#include "cni_error_code.hpp"
#include "plugin.hpp"
#include "request.hpp"

namespace fp::cni {
namespace {

struct Env {
    std::map<std::string, std::string> vars = {{"CNI_COMMAND", "ADD"},
                                               {"CNI_CONTAINERID", "abc"},
                                               {"CNI_NETNS", "/run/netns/x"},
                                               {"CNI_IFNAME", "eth0"},
                                               {"CNI_PATH", "/usr/lib/cni:/opt/cni/bin"},
                                               {"CNI_ARGS", "IgnoreUnknown=1;K8S_POD_NAME=web;IP=10.88.0.9"}};
    Request parse(const std::string &stdin_text = R"({"cniVersion":"1.0.0","name":"n","type":"flatpath-cni"})") const
    {
        return Request::parse(
            [this](const char *name) -> const char * {
                const auto it = vars.find(name);
                return it == vars.end() ? nullptr : it->second.c_str();
            },
            stdin_text);
    }
};

TEST(CniRequest, ReadsTheEnvironment)
{
    const Request r = Env{}.parse();
    EXPECT_EQ(r.command, Command::Add);
    EXPECT_EQ(r.container_id, "abc");
    EXPECT_EQ(r.args.at("IP"), "10.88.0.9");
    EXPECT_EQ(r.args.at("K8S_POD_NAME"), "web");
    EXPECT_EQ(r.path, (std::vector<std::string>{"/usr/lib/cni", "/opt/cni/bin"}));
    EXPECT_EQ(r.cni_version, "1.0.0");
}

TEST(CniRequest, EachMissingVariableIsError4)
{
    for (const char *var : {"CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME"}) {
        Env e;
        e.vars.erase(var);
        EXPECT_EQ(code_of([&] { e.parse(); }), 4) << var;
    }
    Env del;
    del.vars["CNI_COMMAND"] = "DEL";
    del.vars.erase("CNI_NETNS");
    EXPECT_EQ(code_of([&] { del.parse(); }), 0) << "DEL works without a namespace";
    Env bad;
    bad.vars["CNI_COMMAND"] = "FROB";
    EXPECT_EQ(code_of([&] { bad.parse(); }), 4);
    bad.vars["CNI_COMMAND"] = "ADD";
    bad.vars["CNI_ARGS"] = "novalue";
    EXPECT_EQ(code_of([&] { bad.parse(); }), 4);
    bad.vars["CNI_ARGS"] = "";
    bad.vars["CNI_IFNAME"] = "a-name-far-too-long";
    EXPECT_EQ(code_of([&] { bad.parse(); }), 4);
}

TEST(CniRequest, StdinProblems)
{
    const Env e;
    EXPECT_EQ(code_of([&] { e.parse("{not json"); }), 6);
    EXPECT_EQ(code_of([&] { e.parse("[1,2]"); }), 6);
    EXPECT_EQ(code_of([&] { e.parse(R"({"name":"n"})"); }), 6) << "no cniVersion";
    EXPECT_EQ(code_of([&] { e.parse(R"({"cniVersion":"2.0.0"})"); }), 1);
    EXPECT_EQ(code_of([&] { e.parse(std::string(kMaxConfigBytes + 1, ' ')); }), 6) << "1 MiB";
}

TEST(CniRequest, VersionListsEverySupportedVersion)
{
    Env e;
    e.vars = {{"CNI_COMMAND", "VERSION"}};
    const nlohmann::json v = run(e.parse(R"({"cniVersion":"1.1.0"})"));
    EXPECT_EQ(v["cniVersion"], "1.1.0");
    EXPECT_EQ(v["supportedVersions"], (nlohmann::json{"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"}));
}

} // namespace
} // namespace fp::cni

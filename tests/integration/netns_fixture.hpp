// The demo's topology (loader/lab/topology.hpp) with the datapath up, for each test:
// built in namespaces of the test's own, removed even when the test fails.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <memory>

#include "command.hpp"
#include "lab.hpp"
#include "topology.hpp"
#include "traffic.hpp"

namespace fp::test {

class NetnsTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        lab = std::make_unique<Lab>("t");
        topo = std::make_unique<Topology>(*lab, nullptr);
    }
    void TearDown() override
    {
        topo.reset();
        lab.reset(); // namespaces, their veths and the bpffs go here, pass or fail
    }

    std::string flatpath(const std::vector<std::string> &args) { return topo->flatpath(FLATPATH_BIN, args); }
    CommandResult flatpath_result(const std::vector<std::string> &args)
    {
        return run_command(topo->flatpath_argv(FLATPATH_BIN, args));
    }
    nlohmann::json flatpath_json(const std::vector<std::string> &args)
    {
        return nlohmann::json::parse(flatpath(args));
    }
    void start(const std::string &xdp_mode = "auto") { topo->start_datapath(FLATPATH_BIN, xdp_mode); }

    // Packets flatpath delivered to the endpoint on host device `dev` so far.
    std::uint64_t delivered_to(const std::string &dev)
    {
        const nlohmann::json stats = flatpath_json({"stats", "--json"});
        for (const auto &e : stats["endpoints"])
            if (e["dev"] == dev)
                return e["to_packets"].get<std::uint64_t>();
        ADD_FAILURE() << "no endpoint on " << dev << " in flatpath stats";
        return 0;
    }
    std::string host(const std::vector<std::string> &argv) { return lab->in(topo->host_ns(), argv); }
    // Packets counted for reason `name` (pass_*, drop_*) so far, all hooks together.
    std::uint64_t reason_count(const std::string &name)
    {
        std::uint64_t n = 0;
        const nlohmann::json stats = flatpath_json({"stats", "--json"}); // the loop must not outlive it
        for (const auto &r : stats["reasons"])
            if (r["reason"] == name)
                n += r["packets"].get<std::uint64_t>();
        return n;
    }

    // The command must fail with exactly one line naming the problem (message) and leave
    // state() as it was.
    template <class State>
    void expect_refused_keeping(const std::vector<std::string> &args, const std::string &message, State state)
    {
        SCOPED_TRACE(command_line(args));
        const auto before = state();
        const CommandResult r = flatpath_result(args);
        EXPECT_NE(r.status, 0);
        EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
        EXPECT_TRUE(r.output.starts_with("flatpath: error: ")) << r.output;
        EXPECT_NE(r.output.find(message), std::string::npos) << "want '" << message << "' in: " << r.output;
        EXPECT_EQ(state(), before);
    }

    const Container &c1() const { return topo->containers()[0]; }
    const Container &c2() const { return topo->containers()[1]; }

    std::unique_ptr<Lab> lab;
    std::unique_ptr<Topology> topo;
};

} // namespace fp::test

// `flatpath daemon` under test: the daemon runs in the test's host namespace (through
// nsenter, like Podman), on the lab's pin root, with a run directory and a log of the
// test's own; its metrics endpoint listens on 127.0.0.1:kMetricsPort of that namespace.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <sstream>

#include "background_process.hpp"
#include "command.hpp"
#include "error.hpp"
#include "eventually.hpp"
#include "netns_task.hpp"
#include "sockets.hpp"

namespace fp::test {

inline constexpr int kMetricsPort = 19465;

class DaemonRunner {
public:
    DaemonRunner(std::string netns, std::string pin_root, std::string dir)
        : netns_(std::move(netns)), pin_root_(std::move(pin_root)), dir_(std::move(dir))
    {
    }

    // The command line of a daemon (metrics on kMetricsPort unless flags say otherwise);
    // env: NAME=VALUE words put before it (drop-in use).
    std::vector<std::string> argv(const std::vector<std::string> &flags, const std::vector<std::string> &env = {}) const
    {
        std::vector<std::string> a = {"nsenter", "--net=/run/netns/" + netns_, "env"};
        a.insert(a.end(), env.begin(), env.end());
        a.insert(a.end(), {FLATPATH_BIN, "--pin-root", pin_root_, "daemon", "--run-dir", run_dir()});
        if (std::find(flags.begin(), flags.end(), "--metrics-listen") == flags.end())
            a.insert(a.end(), {"--metrics-listen", "127.0.0.1:" + std::to_string(kMetricsPort)});
        a.insert(a.end(), flags.begin(), flags.end());
        return a;
    }
    void start(const std::vector<std::string> &flags, const std::vector<std::string> &env = {})
    {
        process = std::make_unique<BackgroundProcess>(argv(flags, env), log_path());
        // Up when its metrics answer (the datapath is up and the maps are open by then).
        ASSERT_TRUE(eventually([&] { return !scrape().empty() || !process->running(); }))
            << "the daemon did not start:\n" << log();
        ASSERT_TRUE(process->running()) << "the daemon exited:\n" << log();
    }
    int stop(int sig) { return process->stop(sig); }

    std::string run_dir() const { return dir_ + "/fprun"; }
    std::string log_path() const { return dir_ + "/daemon.log"; }
    std::string log() const
    {
        std::ifstream in(log_path());
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    }
    // The metrics page ("" while nothing answers), fetched as a scraper would: one
    // HTTP GET over TCP from inside the daemon's namespace.
    std::string scrape() const
    {
        try {
            return run_in_netns(netns_, [] {
                Socket s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
                const SockAddr to = sockaddr_of(IpAddr::parse("127.0.0.1"), kMetricsPort);
                if (::connect(s.get(), to.ptr(), to.len) != 0)
                    return std::string();
                if (!send_all(s.get(), "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"))
                    return std::string();
                const std::string answer = recv_all(s.get());
                const std::size_t body = answer.find("\r\n\r\n");
                // "HTTP/1.0 200 ..." or "HTTP/1.1 200 ...": the server may answer in its own version.
                if (answer.rfind("HTTP/1.", 0) != 0 || answer.compare(8, 5, " 200 ") != 0 || body == std::string::npos)
                    return std::string();
                return answer.substr(body + 4);
            });
        } catch (const Error &) {
            return "";
        }
    }
    // The value of one sample line ("name{labels}" exactly as printed); -1 when absent.
    double metric(const std::string &series) const
    {
        std::istringstream in(scrape());
        for (std::string line; std::getline(in, line);)
            if (line.rfind(series + " ", 0) == 0)
                return std::stod(line.substr(series.size() + 1));
        return -1;
    }
    nlohmann::json flatpath_json(const std::vector<std::string> &args) const
    {
        std::vector<std::string> a = {"nsenter", "--net=/run/netns/" + netns_, FLATPATH_BIN, "--pin-root", pin_root_};
        a.insert(a.end(), args.begin(), args.end());
        a.push_back("--json");
        return nlohmann::json::parse(run_checked(a));
    }

    std::unique_ptr<BackgroundProcess> process;

private:
    std::string netns_, pin_root_, dir_;
};

} // namespace fp::test

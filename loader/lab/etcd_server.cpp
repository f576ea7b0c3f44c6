#include "etcd_server.hpp"

#include <signal.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "error.hpp"
#include "http_transport.hpp"
#include "netns_scope.hpp"

namespace fp {

namespace {

std::string read_file(const std::string &path)
{
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

} // namespace

EtcdServer::EtcdServer(std::string netns, std::string ip, int client_port, std::string data_dir)
    : netns_(std::move(netns)), ip_(std::move(ip)), port_(client_port), data_dir_(std::move(data_dir)),
      log_(data_dir_ + ".log")
{
    start();
}

std::string EtcdServer::url() const
{
    const bool v6 = ip_.find(':') != std::string::npos;
    return "http://" + (v6 ? "[" + ip_ + "]" : ip_) + ":" + std::to_string(port_);
}

void EtcdServer::start()
{
    const std::string peer = "http://" + ip_ + ":" + std::to_string(port_ + 1);
    // A one-member cluster named after its data, so that a restart finds its own.
    process_ = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{"nsenter", "--net=/run/netns/" + netns_, "etcd", "--name", "fp-lab", "--data-dir",
                                 data_dir_, "--listen-client-urls", url(), "--advertise-client-urls", url(),
                                 "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                                 "--initial-cluster", "fp-lab=" + peer},
        log_);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
        if (!process_->running())
            throw Error("etcd exited at start:\n" + read_file(log_));
        try {
            NetnsScope in(netns_);
            HttpRequest req;
            req.url = url() + "/health";
            req.timeout_s = 2;
            req.what = "etcd health";
            std::string body;
            if (http_perform(req, body).status == 200 && body.find("\"true\"") != std::string::npos)
                return;
        } catch (const Error &) {
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    throw Error("etcd did not become healthy within 20 s:\n" + read_file(log_));
}

void EtcdServer::kill()
{
    if (process_)
        process_->stop(SIGKILL);
}

void EtcdServer::stop()
{
    if (process_)
        process_->stop(SIGTERM);
}

} // namespace fp

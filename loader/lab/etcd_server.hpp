// A real etcd for the tests and the bench: one member serving clients on ip:client_port
// inside a namespace of the caller's, its data in a directory of the caller's. Stopped
// (SIGTERM) on destruction; kill() and start() again model a crash and a restart on the
// same data.
#pragma once

#include <memory>
#include <string>

#include "background_process.hpp"

namespace fp {

class EtcdServer {
public:
    // Starts it and waits until it answers (throws with its log when it does not).
    EtcdServer(std::string netns, std::string ip, int client_port, std::string data_dir);

    // "http://ip:port"
    std::string url() const;
    // Starts it again on the same data after kill() or stop().
    void start();
    // SIGKILL: a crash.
    void kill();
    void stop();
    const std::string &log_path() const { return log_; }

private:
    std::string netns_, ip_;
    int port_;
    std::string data_dir_, log_;
    std::unique_ptr<BackgroundProcess> process_;
};

} // namespace fp

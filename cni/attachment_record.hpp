// What flatpath-cni attached, one JSON file per attachment under
// STATE_DIR/attachments/ (named after its host veth, which the container ID and interface
// name derive): the container's ID and the runtime's name for it, the network, the
// interface, the host end, the addresses and the published ports. Written by ADD (and
// taken back by its rollback), removed by DEL; `flatpath ps` reads them.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace fp::cni {

struct AttachmentRecord {
    std::string container_id;
    std::string name;    // K8S_POD_NAME, which Podman sets to the container's name; "" if none
    std::string network;
    std::string ifname;  // in the container
    std::string host_dev;
    std::vector<std::string> addresses;
    std::vector<std::string> ports; // "tcp 0.0.0.0:8080 -> 80", as dnat list shows published ports
    long long created = 0;          // unix seconds

    nlohmann::json to_json() const;
    static AttachmentRecord from_json(const nlohmann::json &j);
};

class AttachmentRecords {
public:
    explicit AttachmentRecords(std::string state_dir) : dir_(std::move(state_dir) + "/attachments") {}

    void save(const AttachmentRecord &r) const;
    // Missing is fine.
    void erase(const std::string &host_dev) const;
    // Every record; unreadable ones are skipped.
    std::vector<AttachmentRecord> load_all() const;

private:
    std::string dir_;
};

} // namespace fp::cni

#include "attachment_record.hpp"

#include <filesystem>
#include <fstream>

#include "error.hpp"

namespace fp::cni {

nlohmann::json AttachmentRecord::to_json() const
{
    return {{"container_id", container_id}, {"name", name},           {"network", network},
            {"ifname", ifname},             {"host_dev", host_dev},   {"addresses", addresses},
            {"ports", ports},               {"created", created}};
}

AttachmentRecord AttachmentRecord::from_json(const nlohmann::json &j)
{
    AttachmentRecord r;
    r.container_id = j.at("container_id").get<std::string>();
    r.name = j.value("name", "");
    r.network = j.at("network").get<std::string>();
    r.ifname = j.at("ifname").get<std::string>();
    r.host_dev = j.at("host_dev").get<std::string>();
    r.addresses = j.value("addresses", std::vector<std::string>{});
    r.ports = j.value("ports", std::vector<std::string>{});
    r.created = j.value("created", 0LL);
    return r;
}

void AttachmentRecords::save(const AttachmentRecord &r) const
{
    std::filesystem::create_directories(dir_);
    const std::string path = dir_ + "/" + r.host_dev + ".json";
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << r.to_json().dump() << "\n";
        if (!out)
            throw Error("cannot write " + tmp);
    }
    std::filesystem::rename(tmp, path); // whole or not at all
}

void AttachmentRecords::erase(const std::string &host_dev) const
{
    std::error_code ec;
    std::filesystem::remove(dir_ + "/" + host_dev + ".json", ec);
}

std::vector<AttachmentRecord> AttachmentRecords::load_all() const
{
    std::vector<AttachmentRecord> out;
    std::error_code ec;
    for (const auto &e : std::filesystem::directory_iterator(dir_, ec)) {
        if (e.path().extension() != ".json")
            continue;
        try {
            std::ifstream in(e.path());
            out.push_back(AttachmentRecord::from_json(nlohmann::json::parse(in)));
        } catch (const std::exception &) {
            // half-written by a crash, or someone else's file: not an attachment
        }
    }
    return out;
}

} // namespace fp::cni

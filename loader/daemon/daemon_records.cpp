#include "daemon_records.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>

#include "error.hpp"

namespace fp {

namespace {

namespace fs = std::filesystem;

nlohmann::json dnat_json(const DnatRule &r)
{
    return {{"host", r.host.str()},          {"proto", r.proto},
            {"ports", r.ports.str()},        {"backend", r.backend.str()},
            {"backend_ports", r.backend_ports.str()}};
}

DnatRule dnat_of(const nlohmann::json &j)
{
    return DnatRule{IpAddr::parse(j.at("host").get<std::string>()), j.at("proto").get<std::uint8_t>(),
                    parse_ports(j.at("ports").get<std::string>()), IpAddr::parse(j.at("backend").get<std::string>()),
                    parse_ports(j.at("backend_ports").get<std::string>())};
}

nlohmann::json mark_json(const MarkRule &r)
{
    return {{"addr", r.addr.str()}, {"proto", r.proto},          {"port", r.port},
            {"match", r.match},     {"value", r.mark.value}, {"mask", r.mark.mask}};
}

MarkRule mark_of(const nlohmann::json &j)
{
    return MarkRule{IpAddr::parse(j.at("addr").get<std::string>()), j.at("proto").get<std::uint8_t>(),
                    j.at("port").get<std::uint16_t>(), static_cast<fp_mark_match>(j.at("match").get<int>()),
                    MarkValue{j.at("value").get<std::uint32_t>(), j.at("mask").get<std::uint32_t>()}};
}

nlohmann::json state_json(const AppliedState &s)
{
    nlohmann::json j{{"name", s.name},
                     {"endpoints", nlohmann::json::array()},
                     {"dnat", nlohmann::json::array()},
                     {"marks", nlohmann::json::array()}};
    for (const IpAddr &a : s.endpoints)
        j["endpoints"].push_back(a.str());
    for (const DnatRule &r : s.dnat)
        j["dnat"].push_back(dnat_json(r));
    for (const MarkRule &r : s.marks)
        j["marks"].push_back(mark_json(r));
    return j;
}

AppliedState state_of(const nlohmann::json &j)
{
    AppliedState s;
    s.name = j.at("name").get<std::string>();
    for (const auto &a : j.at("endpoints"))
        s.endpoints.push_back(IpAddr::parse(a.get<std::string>()));
    for (const auto &r : j.at("dnat"))
        s.dnat.push_back(dnat_of(r));
    for (const auto &r : j.at("marks"))
        s.marks.push_back(mark_of(r));
    return s;
}

bool valid_id(const std::string &id)
{
    return !id.empty() && id.size() <= 128 &&
           std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::isalnum(c) != 0; });
}

} // namespace

DaemonRecords::DaemonRecords(std::string dir) : dir_(std::move(dir))
{
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec)
        throw Error("create " + dir_ + ": " + ec.message());
}

std::string DaemonRecords::path_of(const std::string &container_id) const
{
    if (!valid_id(container_id))
        throw Error("'" + container_id + "' is not a container ID");
    return dir_ + "/" + container_id + ".json";
}

std::map<std::string, AppliedState> DaemonRecords::load_all() const
{
    std::map<std::string, AppliedState> out;
    for (const auto &entry : fs::directory_iterator(dir_)) {
        const fs::path &p = entry.path();
        if (p.extension() != ".json" || !valid_id(p.stem().string()))
            continue;
        try {
            std::ifstream in(p);
            out[p.stem().string()] = state_of(nlohmann::json::parse(in));
        } catch (const std::exception &e) {
            spdlog::error("record {}: unreadable, skipped: {}", p.string(), e.what());
        }
    }
    return out;
}

void DaemonRecords::save(const std::string &container_id, const AppliedState &state) const
{
    const std::string path = path_of(container_id);
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << state_json(state).dump() << "\n";
        if (!out.flush())
            throw Error("write " + tmp);
    }
    std::error_code ec;
    fs::rename(tmp, path, ec); // atomic: a reader sees the old record or the new one
    if (ec)
        throw Error("rename " + tmp + " to " + path + ": " + ec.message());
}

void DaemonRecords::erase(const std::string &container_id) const
{
    std::error_code ec;
    fs::remove(path_of(container_id), ec);
    if (ec)
        throw Error("remove " + path_of(container_id) + ": " + ec.message());
}

} // namespace fp

#include "containers.hpp"

#include <algorithm>
#include <filesystem>

#include "attachment_record.hpp"
#include "daemon_records.hpp"

namespace fp {

std::vector<KnownContainer> known_containers(const std::vector<std::string> &state_dirs, const std::string &run_dir)
{
    std::vector<KnownContainer> out;
    for (const std::string &dir : state_dirs)
        for (const cni::AttachmentRecord &r : cni::AttachmentRecords(dir).load_all()) {
            KnownContainer c{r.container_id, r.name, r.network, r.host_dev, {}, true, false};
            for (const std::string &a : r.addresses)
                c.addresses.push_back(IpAddr::parse(a));
            out.push_back(std::move(c));
        }
    // Read only where a daemon ran: the records' class makes its directory.
    const std::string records = run_dir + "/daemon/containers";
    for (const auto &[id, state] :
         std::filesystem::exists(records) ? DaemonRecords(records).load_all() : std::map<std::string, AppliedState>{}) {
        bool attached = false;
        for (KnownContainer &c : out)
            if (c.id == id) {
                c.daemon = attached = true;
                if (c.name.empty())
                    c.name = state.name;
            }
        if (!attached)
            out.push_back(KnownContainer{id, state.name, "", "", state.endpoints, false, true});
    }
    std::sort(out.begin(), out.end(), [](const KnownContainer &a, const KnownContainer &b) {
        return std::tie(a.name, a.id, a.network) < std::tie(b.name, b.id, b.network);
    });
    return out;
}

std::map<IpAddr, std::string> names_by_address(const std::vector<KnownContainer> &containers)
{
    std::map<IpAddr, std::string> out;
    for (const KnownContainer &c : containers)
        for (const IpAddr &a : c.addresses)
            out[a] = c.name.empty() ? c.id.substr(0, 12) : c.name;
    return out;
}

} // namespace fp

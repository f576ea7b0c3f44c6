#include "containers.hpp"

#include <algorithm>
#include <filesystem>

#include "attachment_record.hpp"
#include "daemon_records.hpp"
#include "networks.hpp"

namespace fp {

std::vector<std::string> RecordDirs::plugin_state_dirs() const
{
    return state_dirs.empty() ? cni::plugin_state_dirs(config_dir) : state_dirs;
}

void RecordDirs::add_options(CLI::App &cmd, const std::string &in_run_dir, const std::string &in_state_dir)
{
    cmd.add_option("--run-dir", run_dir, "the daemon's run directory, where " + in_run_dir)
        ->envname("FLATPATH_RUN_DIR")
        ->capture_default_str();
    cmd.add_option("--state-dir", state_dirs,
                   "the plugin's state directories, where " + in_state_dir +
                       " (default: /var/lib/flatpath and every stateDir of a flatpath-cni network in --config-dir)");
    cmd.add_option("--config-dir", config_dir, "the CNI configuration directory")->capture_default_str();
}

std::vector<KnownContainer> known_containers(const RecordDirs &dirs)
{
    std::vector<KnownContainer> out;
    for (const std::string &dir : dirs.plugin_state_dirs())
        for (const cni::AttachmentRecord &r : cni::AttachmentRecords(dir).load_all()) {
            KnownContainer c{r.container_id, r.name, r.network, r.host_dev, {}, true, false};
            for (const std::string &a : r.addresses)
                c.addresses.push_back(IpAddr::parse(a));
            out.push_back(std::move(c));
        }
    // Read only where a daemon ran: the records' class makes its directory.
    const std::string records = dirs.run_dir + "/daemon/containers";
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

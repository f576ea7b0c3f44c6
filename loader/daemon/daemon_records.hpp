// What the daemon put in the datapath for each container, kept on disk (one JSON file
// per container ID under the daemon's run directory) so that a daemon started after a
// crash or kill -9 knows which entries are its own: it removes those of containers
// that are gone and leaves everything else (the CNI plugin's, an operator's) alone.
// A record is written before the entries it lists are added, so a crash in between
// leaves a record of entries that may not exist (removing them is harmless), never
// entries without a record.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "dnat_table.hpp"
#include "ip_addr.hpp"
#include "mark_rules.hpp"

namespace fp {

struct AppliedState {
    std::string name;
    std::vector<IpAddr> endpoints; // addresses the daemon registered itself (attach mode)
    std::vector<DnatRule> dnat;
    std::vector<MarkRule> marks;
    bool empty() const { return endpoints.empty() && dnat.empty() && marks.empty(); }
    bool operator==(const AppliedState &) const = default;
};

class DaemonRecords {
public:
    // Creates the directory when missing.
    explicit DaemonRecords(std::string dir);

    // Every record, by container ID; an unreadable file is logged and skipped.
    std::map<std::string, AppliedState> load_all() const;
    void save(const std::string &container_id, const AppliedState &state) const;
    void erase(const std::string &container_id) const;

private:
    std::string path_of(const std::string &container_id) const; // refuses IDs that are not [0-9a-zA-Z]
    std::string dir_;
};

} // namespace fp

// A throwaway set of network namespaces and a private bpffs, for the demo and
// the tests. Names carry the process id, so two runs never collide, and the
// destructor removes every namespace (and with them every veth inside) and
// unmounts the bpffs, also when the run failed.
#pragma once

#include <string>
#include <vector>

#include "mac_addr.hpp"

namespace fp {

class Lab {
public:
    explicit Lab(const std::string &tag);
    Lab(const Lab &) = delete;
    Lab &operator=(const Lab &) = delete;
    ~Lab();

    // Creates a namespace (with lo up) and returns its full name.
    std::string add_netns(const std::string &short_name);
    // A veth pair between two namespaces, both ends up.
    void add_veth(const std::string &ns_a, const std::string &if_a, const MacAddr &mac_a, const std::string &ns_b,
                  const std::string &if_b, const MacAddr &mac_b);
    // Runs argv inside ns; throws with the output when it fails. The output is returned.
    std::string in(const std::string &ns, const std::vector<std::string> &argv) const;
    // A pin root on a bpffs mounted for this lab only.
    const std::string &pin_root() const { return pin_root_; }
    const std::vector<std::string> &namespaces() const { return namespaces_; }

private:
    std::string prefix_;
    std::string bpffs_dir_;
    std::string pin_root_;
    std::vector<std::string> namespaces_;
};

// Names of the namespaces a Lab with this tag would create in this process.
std::string lab_prefix(const std::string &tag);

} // namespace fp

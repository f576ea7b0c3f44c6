// The cgroup v2 hierarchy, where the host's socket hooks attach: at its root, every
// process of the machine is under them.
#pragma once

#include "unique_fd.hpp"

namespace fp {

// The root of the cgroup2 hierarchy, opened: where it is mounted (/sys/fs/cgroup on a
// unified host, /sys/fs/cgroup/unified on a hybrid one), or, where this process sees no
// cgroup2 mount (`ip netns exec` remounts /sys), through a mount of its own that is gone
// again when this returns (the hierarchy is the same). Throws when neither works.
UniqueFd open_cgroup2_root();

} // namespace fp

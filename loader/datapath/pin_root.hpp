// Where the datapath's maps and programs are pinned: --pin-root, else
// $FLATPATH_PIN_ROOT, else /sys/fs/bpf/flatpath. Tests and the demo point it at a
// bpffs of their own so they never see (or touch) a real installation's pins.
#pragma once

#include <string>

namespace fp {

class PinRoot {
public:
    // flag_value empty: use the environment, then the default.
    static PinRoot resolve(const std::string &flag_value);
    explicit PinRoot(std::string path) : path_(std::move(path)) {}

    const std::string &path() const { return path_; }
    std::string map_path(const char *map_name) const { return path_ + "/" + map_name; }
    std::string progs_dir() const;
    std::string prog_path(const char *prog_name) const;
    // The directory the pin root lives in: the bpf filesystem, and what `up` locks.
    std::string parent() const;

    // Makes sure the pin root's parent is a bpf filesystem. /sys/fs/bpf (the default
    // place) is mounted when it is not one yet, as a systemd host does at boot, with one
    // log line; anywhere else an unmounted parent is an error naming the mount command.
    void ensure_bpffs() const;
    // Whether ensure_bpffs would succeed (without mounting anything now).
    bool bpffs_usable() const;
    // True when `flatpath up` has pinned the programs here.
    bool is_up() const;

private:
    std::string path_;
};

} // namespace fp

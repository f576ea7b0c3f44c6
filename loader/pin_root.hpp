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

    // Throws, with the mount command to run, unless the pin root's parent is on a bpf filesystem.
    void require_bpffs() const;
    // True when `flatpath up` has pinned the programs here.
    bool is_up() const;

private:
    std::string path_;
};

} // namespace fp

// The datapath's BPF programs: loaded from the skeletons built into this
// binary, sharing one set of maps, pinned under the pin root by `up` and
// opened from the pins by every later command.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "map_fd.hpp"
#include "unique_fd.hpp"
#include "pin_root.hpp"
#include "table_sizes.hpp"

namespace fp {

// Uplinks: XDP and tc, or tc alone on an L3 device (L3Uplink); endpoints: tc ingress, the
// tun variant (TunEndpoint) on an L3 device, which give each packet an Ethernet header
// first (bpf/lib/l3_dev.h); and tc egress (ToEndpoint, ToTun), the endpoint's policy of what
// the host stack sends it.
enum class Program { XdpUplink, TcUplink, TcEndpoint, TunEndpoint, L3Uplink, ToEndpoint, ToTun };

// Every packet program, in a fixed order.
std::span<const Program> all_programs();
// The name of every map the programs share (each is pinned under the pin root by it).
std::span<const char *const> all_map_names();

// The name of the program's function, which is also its pin's file name.
const char *program_name(Program p);

class ProgFd {
public:
    explicit ProgFd(int fd = -1) : fd_(fd) {}

    static ProgFd open_pinned(const PinRoot &root, Program p);
    // open_pinned, but nullopt when a datapath that is up predates the program.
    static std::optional<ProgFd> try_open_pinned(const PinRoot &root, Program p);
    int get() const { return fd_.get(); }
    // The kernel's id of the program, to recognise it where it is attached.
    std::uint32_t id() const;

private:
    UniqueFd fd_;
};

// All the objects (the packet hooks', the host sockets' hooks), loaded and
// holding their programs and maps. Maps are created by the first object (or taken from
// existing pins) and reused by the others, so every program sees the same tables.
class LoadedPrograms {
public:
    // reuse_pins_from: a pin root whose pinned maps the programs should use; empty for fresh
    // maps. with_trace false: the bench's reference, the trace's code removed at load.
    // sizes: of the maps created here (pinned ones keep theirs, and must match).
    static LoadedPrograms load(const std::string &reuse_pins_from, bool with_trace = true,
                               const TableSizes &sizes = {});
    LoadedPrograms(LoadedPrograms &&) noexcept;
    LoadedPrograms &operator=(LoadedPrograms &&) noexcept;
    ~LoadedPrograms();

    int prog_fd(Program p) const;
    int map_fd(const char *map_name) const;

    // Pins maps not pinned yet, then the programs; undoes its own pins on failure.
    void pin(const PinRoot &root) const;
    // Attaches the host's socket hooks to the cgroup2 root, their links pinned under root
    // (remove_pins detaches them); undoes its own on failure.
    void attach_host_sockets(const PinRoot &root) const;

private:
    struct Objects;
    explicit LoadedPrograms(std::unique_ptr<Objects> objs);
    std::unique_ptr<Objects> objs_;
};

// The host's socket hooks and, for each, whether its pinned link under root is attached
// to a cgroup now ("host_connect4", true): what `status` shows.
std::vector<std::pair<std::string, bool>> host_socket_hooks(const PinRoot &root);

// A datapath made by an older flatpath lacks the maps added since: creates them (empty, as
// this build defines them) and pins them, so that every command can open the set. Its
// programs stay as they are (they never use the new maps) until `down` and `up`. Returns
// the names of the maps it added.
std::vector<std::string> pin_missing_maps(const PinRoot &root);

// Removes every pin `up` made under root (programs, maps, directories). Missing pins are fine.
void remove_pins(const PinRoot &root);

} // namespace fp

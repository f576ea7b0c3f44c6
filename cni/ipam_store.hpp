// flatpath-cni's built-in IPAM: one file per leased address under
// STATE_DIR/ipam/NETWORK/, holding the container ID and interface name that own
// it. Every change happens under an exclusive flock on that directory's lock
// file, and a lease file is created with O_EXCL, so concurrent ADDs and DELs in
// separate processes never hand out one address twice nor leak one.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "file_lock.hpp"
#include "ip_addr.hpp"
#include "ip_pool.hpp"

namespace fp::cni {

struct Lease {
    IpAddr addr;
    std::string container_id;
    std::string ifname;
    std::filesystem::file_time_type taken; // when the lease file was written
};

class IpamStore {
public:
    // Creates the directory if needed and takes the lock until destruction.
    explicit IpamStore(const std::string &dir);
    IpamStore(const IpamStore &) = delete;
    IpamStore &operator=(const IpamStore &) = delete;

    // requested: a specific address (IP= in CNI_ARGS, runtimeConfig.ips), else the next
    // free one after the last handed out. The same owner asking again gets its lease back.
    IpAddr allocate(const IpPool &pool, const std::string &container_id, const std::string &ifname,
                    const std::optional<IpAddr> &requested);
    // Removes the owner's leases; returns the addresses freed (none is fine).
    std::vector<IpAddr> release(const std::string &container_id, const std::string &ifname);
    std::vector<Lease> leases() const;

private:
    std::optional<Lease> lease_at(const IpAddr &a) const;
    bool take(const IpAddr &a, const std::string &container_id, const std::string &ifname);

    std::string dir_;
    std::optional<FileLock> lock_; // held from construction
};

// The directory of a network's leases under a state directory: STATE_DIR/ipam/NETWORK.
std::string ipam_dir(const std::string &state_dir, const std::string &network);

} // namespace fp::cni

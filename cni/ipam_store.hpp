// flatpath-cni's built-in IPAM: one file per leased address under
// STATE_DIR/ipam/NETWORK/, holding the container ID and interface name that own
// it. Every change happens under an exclusive flock on that directory's lock
// file, and a lease file is created with O_EXCL, so concurrent ADDs and DELs in
// separate processes never hand out one address twice nor leak one.
// An index, owners/, has a file per owner (container ID and interface) listing its
// addresses, so that an ADD or DEL finds its own leases without reading every lease
// file; it is written before a lease is taken (a crash leaves at most an entry whose
// lease does not exist, which is ignored), built from the leases when missing, and
// removed with its last entry.
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
    // Every lease (reads every lease file).
    std::vector<Lease> leases() const;
    // The owner's leased addresses (reads its index entry and its leases).
    std::vector<IpAddr> leased_to(const std::string &container_id, const std::string &ifname) const;

private:
    std::optional<Lease> lease_at(const IpAddr &a) const;
    bool take(const IpAddr &a, const std::string &container_id, const std::string &ifname);
    bool take_file(const IpAddr &a, const std::string &container_id, const std::string &ifname);
    std::string owner_file(const std::string &container_id, const std::string &ifname) const;
    // The addresses the index lists for the owner (their leases unchecked); nullopt when its
    // entry belongs to another owner whose name maps to the same file.
    std::optional<std::vector<IpAddr>> indexed(const std::string &container_id, const std::string &ifname) const;
    void write_index(const std::string &container_id, const std::string &ifname, const std::vector<IpAddr> &addrs) const;
    void build_index() const;

    std::string dir_;
    std::optional<FileLock> lock_; // held from construction
};

// The directory of a network's leases under a state directory: STATE_DIR/ipam/NETWORK.
std::string ipam_dir(const std::string &state_dir, const std::string &network);

} // namespace fp::cni

#include "ipam_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "cni_error.hpp"
#include "error.hpp"

namespace fp::cni {

namespace fs = std::filesystem;

IpamStore::IpamStore(const std::string &dir) : dir_(dir)
{
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec)
        throw CniError(ErrorCode::IoFailure, "cannot create the IPAM directory " + dir_, ec.message());
    try {
        lock_.emplace(FileLock::on_file(dir_ + "/lock", 0600));
    } catch (const Error &e) {
        throw CniError(ErrorCode::IoFailure, "cannot lock the IPAM directory " + dir_, e.what());
    }
}

std::optional<Lease> IpamStore::lease_at(const IpAddr &a) const
{
    std::ifstream in(dir_ + "/" + a.str());
    Lease l{a, "", ""};
    if (!in || !std::getline(in, l.container_id) || !std::getline(in, l.ifname))
        return std::nullopt;
    return l;
}

bool IpamStore::take(const IpAddr &a, const std::string &container_id, const std::string &ifname)
{
    const std::string path = dir_ + "/" + a.str();
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (fd.get() < 0) {
        if (errno == EEXIST)
            return false;
        throw CniError(ErrorCode::IoFailure, "cannot write lease " + path, std::strerror(errno));
    }
    const std::string content = container_id + "\n" + ifname + "\n";
    const bool ok = ::write(fd.get(), content.data(), content.size()) == static_cast<ssize_t>(content.size());
    fd.reset();
    if (!ok) {
        ::unlink(path.c_str());
        throw CniError(ErrorCode::IoFailure, "cannot write lease " + path);
    }
    return true;
}

IpAddr IpamStore::allocate(const IpPool &pool, const std::string &container_id, const std::string &ifname,
                           const std::optional<IpAddr> &requested)
{
    for (const Lease &l : leases())
        if (l.container_id == container_id && l.ifname == ifname && pool.contains(l.addr))
            return l.addr;
    if (requested) {
        if (!pool.usable(*requested))
            throw CniError(ErrorCode::InvalidConfig, "requested address " + requested->str() + " is not in " +
                                                         pool.subnet() + "'s range (or is reserved)");
        if (!take(*requested, container_id, ifname))
            throw CniError(ErrorCode::AddressInUse, "requested address " + requested->str() + " is already in use");
        return *requested;
    }
    // Next free address after the last one handed out: addresses are reused as late as possible.
    const std::string last_file = dir_ + "/last_reserved." + (pool.is_v4() ? "4" : "6");
    IpAddr start = pool.last();
    if (std::ifstream in(last_file); in) {
        std::string text;
        if (std::getline(in, text)) {
            try {
                const IpAddr a = IpAddr::parse(text);
                if (pool.contains(a))
                    start = a;
            } catch (const std::exception &) {
            }
        }
    }
    IpAddr a = start;
    for (std::uint64_t i = 0; i < pool.size(); ++i) {
        a = pool.next(a);
        if (!pool.usable(a) || !take(a, container_id, ifname))
            continue;
        std::ofstream(last_file) << a.str() << "\n";
        return a;
    }
    throw CniError(ErrorCode::NoFreeAddress, "no free address left in " + pool.subnet() + " (" + pool.first().str() +
                                                     "-" + pool.last().str() + ")");
}

std::vector<IpAddr> IpamStore::release(const std::string &container_id, const std::string &ifname)
{
    std::vector<IpAddr> freed;
    for (const Lease &l : leases()) {
        if (l.container_id != container_id || l.ifname != ifname)
            continue;
        fs::remove(dir_ + "/" + l.addr.str());
        freed.push_back(l.addr);
    }
    return freed;
}

std::vector<Lease> IpamStore::leases() const
{
    std::vector<Lease> out;
    for (const auto &entry : fs::directory_iterator(dir_)) {
        try {
            const IpAddr a = IpAddr::parse(entry.path().filename().string());
            if (auto l = lease_at(a)) {
                l->taken = entry.last_write_time();
                out.push_back(*l);
            }
        } catch (const std::exception &) {
            // lock, last_reserved.*: not leases
        }
    }
    return out;
}

std::string ipam_dir(const std::string &state_dir, const std::string &network)
{
    return state_dir + "/ipam/" + network;
}

} // namespace fp::cni

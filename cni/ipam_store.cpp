#include "ipam_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <cctype>

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
    if (!fs::exists(dir_ + "/owners"))
        build_index(); // a store written before the index existed
}

std::string IpamStore::owner_file(const std::string &container_id, const std::string &ifname) const
{
    // A file name of the ID's safe characters; the file holds the ID itself, which decides.
    std::string name = container_id;
    for (char &c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
            c = '_';
    return dir_ + "/owners/" + name + "@" + ifname;
}

std::optional<std::vector<IpAddr>> IpamStore::indexed(const std::string &container_id, const std::string &ifname) const
{
    std::ifstream in(owner_file(container_id, ifname));
    std::string id, name;
    if (!in || !std::getline(in, id) || !std::getline(in, name))
        return std::vector<IpAddr>{};
    if (id != container_id || name != ifname)
        return std::nullopt;
    std::vector<IpAddr> out;
    for (std::string line; std::getline(in, line);)
        out.push_back(IpAddr::parse(line));
    return out;
}

void IpamStore::write_index(const std::string &container_id, const std::string &ifname,
                            const std::vector<IpAddr> &addrs) const
{
    const std::string path = owner_file(container_id, ifname);
    // Another owner's entry under the same file name stays: this owner is found by a scan.
    if (!indexed(container_id, ifname))
        return;
    if (addrs.empty()) {
        fs::remove(path);
        std::error_code not_empty;
        fs::remove(dir_ + "/owners", not_empty); // the last owner gone: the store as it began
        return;
    }
    fs::create_directories(dir_ + "/owners");
    const std::string tmp = path + ".new";
    {
        std::ofstream out(tmp);
        out << container_id << "\n" << ifname << "\n";
        for (const IpAddr &a : addrs)
            out << a.str() << "\n";
        if (!out.flush())
            throw CniError(ErrorCode::IoFailure, "cannot write " + tmp);
    }
    fs::rename(tmp, path); // whole or not at all
}

void IpamStore::build_index() const
{
    const std::string building = dir_ + "/owners.new";
    fs::remove_all(building);
    std::map<std::pair<std::string, std::string>, std::vector<IpAddr>> owners;
    for (const Lease &l : leases())
        owners[{l.container_id, l.ifname}].push_back(l.addr);
    if (owners.empty())
        return; // no owner, no index: the first lease makes it
    fs::create_directories(building);
    for (const auto &[owner, addrs] : owners) {
        const std::string name = owner_file(owner.first, owner.second).substr(dir_.size() + 8); // past "/owners/"
        std::ofstream out(building + "/" + name);
        out << owner.first << "\n" << owner.second << "\n";
        for (const IpAddr &a : addrs)
            out << a.str() << "\n";
    }
    fs::rename(building, dir_ + "/owners"); // the index appears whole
}

std::vector<IpAddr> IpamStore::leased_to(const std::string &container_id, const std::string &ifname) const
{
    const auto listed = indexed(container_id, ifname);
    std::vector<IpAddr> out;
    if (!listed) { // a name shared with another owner: read every lease
        for (const Lease &l : leases())
            if (l.container_id == container_id && l.ifname == ifname)
                out.push_back(l.addr);
        return out;
    }
    for (const IpAddr &a : *listed)
        if (const auto l = lease_at(a); l && l->container_id == container_id && l->ifname == ifname)
            out.push_back(a);
    return out;
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
    if (fs::exists(dir_ + "/" + a.str()))
        return false; // taken: no index writes for it (the lock keeps this true until take_file)
    // Indexed first: a lease never exists without its owner's entry.
    std::vector<IpAddr> owned = indexed(container_id, ifname).value_or(std::vector<IpAddr>{});
    owned.push_back(a);
    write_index(container_id, ifname, owned);
    if (!take_file(a, container_id, ifname)) {
        owned.pop_back();
        write_index(container_id, ifname, owned);
        return false;
    }
    return true;
}

bool IpamStore::take_file(const IpAddr &a, const std::string &container_id, const std::string &ifname)
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
    for (const IpAddr &a : leased_to(container_id, ifname))
        if (pool.contains(a))
            return a;
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
    const std::vector<IpAddr> freed = leased_to(container_id, ifname);
    for (const IpAddr &a : freed)
        fs::remove(dir_ + "/" + a.str());
    write_index(container_id, ifname, {});
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

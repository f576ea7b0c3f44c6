// Typed access to one BPF map from user space: an owned fd plus the key and
// value types of its definition in flatpath_abi.h. The fd is checked against
// the kernel's idea of the map (key and value sizes) when it is wrapped, so a
// pin left by an incompatible build is refused instead of misread.
#pragma once

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "error.hpp"
#include "map_fd.hpp"

namespace fp {

// Any map with keys: hash, LRU hash, array (no erase), devmap hash.
template <class K, class V>
class KeyedMap {
public:
    KeyedMap(MapFd fd, std::string name) : fd_(std::move(fd)), name_(std::move(name))
    {
        fd_.expect_layout(name_, sizeof(K), sizeof(V));
    }

    // Inserts or replaces.
    void upsert(const K &key, const V &value) { update(key, value, BPF_ANY); }

    // Inserts; returns false when the key is already there.
    bool insert(const K &key, const V &value)
    {
        if (bpf_map_update_elem(fd_.get(), &key, &value, BPF_NOEXIST) == 0)
            return true;
        if (errno == EEXIST)
            return false;
        throw_update_error();
    }

    // Returns false when the key was not there.
    bool erase(const K &key)
    {
        if (bpf_map_delete_elem(fd_.get(), &key) == 0)
            return true;
        if (errno == ENOENT)
            return false;
        throw_errno("delete from map " + name_, errno);
    }

    // Removes the entry and returns its last value (one step: nothing written to it
    // meanwhile is lost); nullopt when it was not there.
    std::optional<V> take(const K &key) { return read_value(bpf_map_lookup_and_delete_elem, key, "take from map "); }

    std::optional<V> lookup(const K &key) const { return read_value(bpf_map_lookup_elem, key, "lookup in map "); }

    // A snapshot of all entries. Entries added or removed meanwhile may or may not be in it.
    // Read in batches (a few syscalls for thousands of entries: removing a published port
    // scans a busy conntrack table); maps without batch support are walked key by key.
    std::vector<std::pair<K, V>> entries() const
    {
        std::vector<std::pair<K, V>> out;
        if (read_batches(out))
            return out;
        K key{};
        K next{};
        const K *prev = nullptr;
        while (bpf_map_get_next_key(fd_.get(), prev, &next) == 0) {
            key = next;
            prev = &key;
            if (auto v = lookup(key))
                out.emplace_back(key, *v);
        }
        return out;
    }

    const std::string &name() const { return name_; }
    int fd() const { return fd_.get(); }

    // The most entries the map holds (its max_entries).
    std::uint32_t capacity() const
    {
        bpf_map_info info{};
        std::uint32_t len = sizeof info;
        if (bpf_obj_get_info_by_fd(fd_.get(), &info, &len) != 0)
            throw_errno("read the definition of map " + name_, errno);
        return info.max_entries;
    }

private:
    // op (a lookup that copies the value out): the value, or nullopt for a missing key.
    std::optional<V> read_value(int (*op)(int, const void *, void *), const K &key, const char *what) const
    {
        V value{};
        if (op(fd_.get(), &key, &value) == 0)
            return value;
        if (errno == ENOENT)
            return std::nullopt;
        throw_errno(what + name_, errno);
    }

    // Appends every entry using BPF_MAP_LOOKUP_BATCH; false when the map type has no batch
    // operations.
    bool read_batches(std::vector<std::pair<K, V>> &out) const
    {
        constexpr std::uint32_t kBatch = 4096;
        std::vector<K> keys(kBatch);
        std::vector<V> values(kBatch);
        // The batch cursor: a bucket index for hash maps, a key for arrays; room for either.
        alignas(8) std::uint8_t cursor[sizeof(K) < 8 ? 8 : sizeof(K)] = {};
        bool first = true;
        for (;;) {
            std::uint32_t count = kBatch;
            const int err = bpf_map_lookup_batch(fd_.get(), first ? nullptr : cursor, cursor, keys.data(),
                                                 values.data(), &count, nullptr);
            const int code = err ? errno : 0;
            if (err && code != ENOENT) {
                // 524: the kernel's own ENOTSUPP, which devmaps return to user space.
                if (first && (code == EINVAL || code == ENOTSUP || code == EOPNOTSUPP || code == 524))
                    return false;
                throw_errno("read map " + name_, code);
            }
            for (std::uint32_t i = 0; i < count; ++i)
                out.emplace_back(keys[i], values[i]);
            if (code == ENOENT) // the last batch
                return true;
            first = false;
        }
    }

    void update(const K &key, const V &value, std::uint64_t flags)
    {
        if (bpf_map_update_elem(fd_.get(), &key, &value, flags) != 0)
            throw_update_error();
    }

    [[noreturn]] void throw_update_error() const
    {
        if (errno == E2BIG || errno == ENOMEM)
            throw Error("map " + name_ + " is full (" + std::to_string(capacity()) + " entries)");
        throw_errno("update map " + name_, errno);
    }

    MapFd fd_;
    std::string name_;
};

// A per-CPU array of counters: user space reads one value per possible CPU.
template <class V>
class PerCpuArray {
public:
    PerCpuArray(MapFd fd, std::string name) : fd_(std::move(fd)), name_(std::move(name))
    {
        fd_.expect_layout(name_, sizeof(std::uint32_t), sizeof(V));
        static_assert(sizeof(V) % 8 == 0, "per-CPU values are laid out in 8-byte steps");
    }

    // The value of every CPU, in CPU order.
    std::vector<V> per_cpu(std::uint32_t index) const
    {
        const int ncpu = libbpf_num_possible_cpus();
        if (ncpu <= 0)
            throw_errno("count possible CPUs", -ncpu);
        std::vector<V> values(static_cast<std::size_t>(ncpu));
        if (bpf_map_lookup_elem(fd_.get(), &index, values.data()) != 0)
            throw_errno("read map " + name_ + " at " + std::to_string(index), errno);
        return values;
    }

    // Resets the counters of one index on every CPU.
    void clear(std::uint32_t index)
    {
        std::vector<V> zero(static_cast<std::size_t>(libbpf_num_possible_cpus()));
        if (bpf_map_update_elem(fd_.get(), &index, zero.data(), BPF_ANY) != 0)
            throw_errno("clear map " + name_ + " at " + std::to_string(index), errno);
    }

    const std::string &name() const { return name_; }

private:
    MapFd fd_;
    std::string name_;
};

} // namespace fp

#include "subnet_leaser.hpp"

#include <set>

#include "error.hpp"
#include "subnet_pool.hpp"

namespace fp {

std::vector<SubnetRecord> read_subnets(const EtcdRange &range, const ClusterConfig &config, std::vector<std::string> &skipped)
{
    std::vector<SubnetRecord> out;
    for (const EtcdKeyValue &kv : range.kvs) {
        try {
            SubnetRecord r = parse_subnet_record(kv.key, kv.value, kv.lease);
            if (!config.network || !config.network->contains(r.subnet.network) || r.subnet.len < config.network->len)
                throw Error("subnet record '" + kv.key + "': " + r.subnet.str() + " is outside the cluster network " +
                            (config.network ? config.network->str() : std::string("(none)")));
            if (r.ipv6_subnet && (!config.ipv6_network || !config.ipv6_network->contains(r.ipv6_subnet->network)))
                throw Error("subnet record '" + kv.key + "': " + r.ipv6_subnet->str() + " is outside the IPv6 cluster network");
            out.push_back(std::move(r));
        } catch (const Error &e) {
            skipped.push_back(e.what());
        }
    }
    return out;
}

std::optional<HostLease> SubnetLeaser::try_create(const LeaseRequest &req, const IpPrefix &subnet,
                                                  const std::optional<IpPrefix> &ipv6_subnet)
{
    HostLease l;
    l.record = SubnetRecord{subnet, ipv6_subnet, req.public_ip, req.public_ipv6, config_.backend, req.backend_data, 0};
    l.key = req.prefix + "/subnets/" + subnet_key(subnet, ipv6_subnet);
    l.record.lease = etcd_.grant(req.ttl_s);
    if (!etcd_.create(l.key, subnet_value(l.record), l.record.lease)) {
        etcd_.revoke(l.record.lease);
        return std::nullopt;
    }
    l.ttl = req.ttl_s;
    return l;
}

HostLease SubnetLeaser::acquire(const LeaseRequest &req, std::vector<std::string> &skipped)
{
    const SubnetPool pool(config_, false);
    const std::optional<SubnetPool> pool6 = config_.ipv6_network ? std::optional<SubnetPool>(SubnetPool(config_, true)) : std::nullopt;
    for (int attempt = 0; attempt < 16; ++attempt) {
        const std::vector<SubnetRecord> records = read_subnets(etcd_.get_prefix(req.prefix + "/subnets/"), config_, skipped);
        std::set<IpPrefix> taken, taken6;
        for (const SubnetRecord &r : records) {
            taken.insert(r.subnet);
            if (r.ipv6_subnet)
                taken6.insert(*r.ipv6_subnet);
        }
        // This host's record, still alive in etcd (a restart within the TTL): kept as it is,
        // with its lease, so nothing about it changes for the peers.
        for (const SubnetRecord &r : records) {
            const bool mine = r.public_ip == req.public_ip && (!req.previous || *req.previous == r.subnet);
            if (!mine || !r.lease || r.backend != config_.backend)
                continue;
            const auto ttl = etcd_.time_to_live(r.lease);
            if (!ttl || *ttl <= 0)
                continue;
            HostLease l{r, req.prefix + "/subnets/" + subnet_key(r.subnet, r.ipv6_subnet), *ttl, true};
            l.record.public_ipv6 = req.public_ipv6;
            l.record.backend_data = req.backend_data; // a remade tunnel device has a new MAC
            etcd_.put(l.key, subnet_value(l.record), r.lease);
            etcd_.keep_alive(r.lease);
            return l;
        }
        // The IPv6 subnet goes with the IPv4 one (the same position in its pool), so that the
        // create transaction on the key, which names both, settles a race for either.
        const auto paired6 = [&](const IpPrefix &subnet) -> std::optional<IpPrefix> {
            if (!pool6)
                return std::nullopt;
            const std::uint64_t i = pool.index_of(subnet);
            if (i >= pool6->size())
                throw Error("the IPv6 cluster network has fewer subnets than the IPv4 one: " + subnet.str() + " has no partner");
            return pool6->at(i);
        };
        // A subnet whose IPv6 partner a host of another kind holds counts as taken.
        if (pool6)
            for (std::uint64_t i = 0; i < pool.size() && i < pool6->size(); ++i)
                if (taken6.contains(pool6->at(i)))
                    taken.insert(pool.at(i));
        // Its previous subnet, free again (the lease expired while it was down): taken back.
        if (req.previous && pool.holds(*req.previous) && !taken.contains(*req.previous)) {
            if (auto l = try_create(req, *req.previous, paired6(*req.previous))) {
                l->reused = true;
                return *l;
            }
            continue; // someone took it meanwhile: look again
        }
        const auto subnet = pool.pick_free(taken, rng_);
        if (!subnet)
            throw Error("every subnet of the cluster network " + config_.network->str() + " is leased (" +
                        std::to_string(pool.size()) + " of /" + std::to_string(config_.subnet_len) + ")");
        if (auto l = try_create(req, *subnet, paired6(*subnet)))
            return *l;
    }
    throw Error("no subnet lease after 16 tries: other hosts took each subnet this one picked");
}

} // namespace fp

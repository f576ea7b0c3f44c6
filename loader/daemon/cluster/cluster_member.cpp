#include "cluster_member.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "error.hpp"
#include "datapath.hpp"
#include "netlink.hpp"
#include "subnet_env.hpp"
#include "subnet_leaser.hpp"

namespace fp {

namespace {

std::int64_t now_ms()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The MTU of the device this host's public address is on (the peers are reached there).
std::uint32_t public_mtu(const IpAddr &public_ip)
{
    const Netlink nl;
    for (const Route &r : nl.routes())
        if (r.dst.is_v4() == public_ip.is_v4() && r.prefix_len > 0 && r.ifindex && !r.gateway &&
            IpPrefix::of(r.dst, r.prefix_len).contains(public_ip))
            if (const auto dev = nl.link(r.ifindex))
                return dev->mtu;
    return 1500;
}

// vxlan over IPv4 adds 50 bytes: outer IPv4 (20), UDP (8), VXLAN (8), inner Ethernet (14).
constexpr std::uint32_t kVxlanOverhead = 50;

enum class Whose { Own, Stale, Peer };

// A record is this host's lease, an old lease of this host (its address, another subnet:
// routed via ourselves it would loop, so it is left to expire), or another host's.
Whose whose(const SubnetRecord &r, const std::optional<SubnetRecord> &own)
{
    if (own && r.subnet == own->subnet)
        return Whose::Own;
    if (own && r.public_ip == own->public_ip) {
        spdlog::warn("cluster: subnet {} names this host ({}) but is not its lease: not routed", r.subnet.str(),
                     r.public_ip.str());
        return Whose::Stale;
    }
    return Whose::Peer;
}

std::int64_t unix_now()
{
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

} // namespace

void check_cluster_options(const ClusterOptions &opts)
{
    if (opts.lease_ttl_s < 5)
        throw Error("--lease-ttl " + std::to_string(opts.lease_ttl_s) + ": at least 5 seconds (etcd's keep-alives need the room)");
    const EtcdClient check(opts.etcd_endpoints); // refuses endpoints that are no URLs
}

ClusterMember::ClusterMember(const PinRoot &root, MapSet &maps, ClusterOptions opts, const std::atomic<bool> &stop)
    : root_(root), maps_(maps), table_(root, maps), opts_(std::move(opts)), stop_(stop)
{
    check_cluster_options(opts_);
}

ClusterMember::~ClusterMember()
{
    closing_ = true;
    interrupt_ = true;
    if (runner_.joinable())
        runner_.join();
    if (keeper_.joinable())
        keeper_.join();
}

void ClusterMember::start()
{
    runner_ = std::thread([this] { run(); });
    keeper_ = std::thread([this] { keep_alive_loop(); });
}

bool ClusterMember::stopping() const
{
    return stop_ || closing_;
}

void ClusterMember::write_status() const
{
    if (opts_.status_file.empty())
        return;
    std::lock_guard<std::mutex> g(mu_);
    nlohmann::json j = {{"connected", health_.connected.load()},
                        {"etcd", etcd_at_},
                        {"prefix", opts_.prefix},
                        {"peers", health_.peers.load()},
                        {"resyncs", health_.resyncs.load()},
                        {"events", health_.events.load()},
                        {"skipped_records", health_.skipped_records.load()},
                        {"route_problems", health_.route_problems.load()},
                        {"endpoint_records", health_.endpoint_records.load()},
                        {"written_unix", unix_now()}};
    const std::int64_t left_ms = health_.lease_expires_ms - now_ms();
    if (own_) {
        j["subnet"] = own_->subnet.str();
        if (own_->ipv6_subnet)
            j["ipv6_subnet"] = own_->ipv6_subnet->str();
        j["public_ip"] = own_->public_ip.str();
        j["lease"] = own_->lease;
        j["lease_expires_unix"] = unix_now() + std::max<std::int64_t>(left_ms, 0) / 1000;
    }
    if (health_.last_event_ms)
        j["last_event_unix"] = unix_now() - (now_ms() - health_.last_event_ms) / 1000;
    const std::string tmp = opts_.status_file + ".tmp";
    {
        std::ofstream f(tmp, std::ios::trunc);
        f << j.dump() << "\n";
        if (!f) {
            spdlog::warn("cluster: cannot write {}", tmp);
            return;
        }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, opts_.status_file, ec);
}

std::optional<SubnetRecord> ClusterMember::lease() const
{
    std::lock_guard<std::mutex> g(mu_);
    return own_;
}

IpAddr ClusterMember::public_ip() const
{
    if (opts_.public_ip)
        return *opts_.public_ip;
    // Flannel's default: the address of the interface the default route goes out of.
    Netlink nl;
    for (const Route &r : nl.routes())
        if (r.dst.is_v4() && r.prefix_len == 0 && r.ifindex)
            for (const IpAddr &a : nl.addresses(r.ifindex))
                if (a.is_v4())
                    return a;
    throw Error("no default route with an IPv4 address to take this host's public address from: give --public-ip");
}

ClusterConfig ClusterMember::load_config(const EtcdClient &etcd) const
{
    const std::string key = opts_.prefix + "/config";
    auto kv = etcd.get(key);
    if (!kv) {
        if (!opts_.cluster_network)
            throw Error("etcd has no " + key + " and no --cluster-network was given to write one");
        ClusterConfig c;
        c.network = opts_.cluster_network;
        c.ipv6_network = opts_.cluster_network6;
        c.subnet_len = opts_.subnet_len.value_or(c.network->len >= 24 ? c.network->len + 1 : 24);
        ClusterConfig::parse(c.dump()); // the same checks as a config read from etcd
        if (etcd.create(key, c.dump()))
            spdlog::info("cluster: wrote {} = {}", key, c.dump());
        kv = etcd.get(key); // ours, or the one another host wrote first
        if (!kv)
            throw Error(key + " vanished right after it was written");
    }
    const ClusterConfig config = ClusterConfig::parse(kv->value);
    if (opts_.cluster_network && config.network != opts_.cluster_network)
        throw Error(key + " says the cluster network is " + (config.network ? config.network->str() : "(none)") +
                    ", --cluster-network says " + opts_.cluster_network->str());
    if (opts_.subnet_len && config.subnet_len != *opts_.subnet_len)
        throw Error(key + " says SubnetLen " + std::to_string(config.subnet_len) + ", --subnet-len says " +
                    std::to_string(*opts_.subnet_len));
    if (!config.network)
        throw Error(key + ": an IPv6-only cluster is not in Flannel's layout (its subnet keys start with IPv4)");
    return config;
}

std::vector<PeerSubnet> ClusterMember::peers_of(const SubnetRecord &r, const ClusterConfig &config) const
{
    if (r.backend != config.backend) {
        spdlog::warn("cluster: subnet {} of {} uses backend {}, the cluster {}: not routed", r.subnet.str(),
                     r.public_ip.str(), backend_name(r.backend), backend_name(config.backend));
        return {};
    }
    if (config.backend == ClusterBackend::HostGw) {
        std::vector<PeerSubnet> out{{r.subnet, r.public_ip, std::nullopt}};
        if (r.ipv6_subnet && r.public_ipv6)
            out.push_back({*r.ipv6_subnet, *r.public_ipv6, std::nullopt});
        return out;
    }
    // vxlan: both families through the IPv4 tunnel to the peer's PublicIP.
    std::optional<MacAddr> mac;
    try {
        if (r.backend_data.is_object() && r.backend_data.contains("VtepMAC") && r.backend_data["VtepMAC"].is_string())
            mac = MacAddr::parse(r.backend_data["VtepMAC"].get<std::string>());
    } catch (const Error &) {
    }
    // A zero MAC would be the device's default destination (every frame it has no entry
    // for), a multicast one every broadcast's, this host's own a loop: none is a peer's.
    if (mac && (mac->is_zero() || mac->is_multicast() || (tunnel_dev_ && *mac == tunnel_dev_->mac)))
        mac.reset();
    if (!mac || !tunnel_dev_) {
        spdlog::warn("cluster: subnet {} of {}: no usable BackendData.VtepMAC: not routed", r.subnet.str(), r.public_ip.str());
        return {};
    }
    const Tunnel t{tunnel_dev_->ifindex, config.vni, *mac};
    std::vector<PeerSubnet> out{{r.subnet, r.public_ip, t}};
    if (r.ipv6_subnet)
        out.push_back({*r.ipv6_subnet, r.public_ip, t});
    return out;
}

// vxlan: the device flatpath.VNI as Flannel makes flannel.VNI (the VNI, the public address
// as the tunnel's source, no learning: peers come as FDB entries), made unless it exists,
// up and attached as an uplink (tc: what arrives through the tunnel is delivered by
// from_uplink); its MAC is this host's VtepMAC. Not a collect-metadata device: what the
// stack sends through one needs routes carrying tunnel metadata, which bpf_fib_lookup and
// libnl cannot read, and a Flannel peer expects this layout (docs/cluster.md). The device
// stays when the daemon stops, so traffic goes on.
void ClusterMember::ensure_tunnel(const ClusterConfig &config, const IpAddr &public_ip)
{
    const std::string name = "flatpath." + std::to_string(config.vni);
    Netlink nl;
    if (!public_ip.is_v4())
        throw Error("vxlan needs an IPv4 public address, not " + public_ip.str());
    if (nl.ensure_vxlan(name, VxlanSpec{config.vni, config.vxlan_port, public_ip, public_mtu(public_ip) - kVxlanOverhead}))
        spdlog::info("cluster: made vxlan device {} (VNI {}, UDP {}, from {})", name, config.vni, config.vxlan_port,
                     public_ip.str());
    nl.set_up(name);
    tunnel_dev_ = nl.link(name);
    if (!tunnel_dev_)
        throw Error("the vxlan device " + name + " vanished");
    datapath_up(root_, UpOptions{{name}, XdpMode::Off, false});
}

void ClusterMember::address_tunnel(const SubnetRecord &own) const
{
    std::vector<IpAddr> wanted{own.subnet.network};
    if (own.ipv6_subnet)
        wanted.push_back(own.ipv6_subnet->network);
    Netlink nl;
    for (const IpAddr &a : nl.addresses(tunnel_dev_->ifindex))
        if (a.special_use().empty() && std::find(wanted.begin(), wanted.end(), a) == wanted.end()) {
            nl.delete_address(tunnel_dev_->name, a, a.is_v4() ? 32 : 128); // an earlier lease's
            spdlog::info("cluster: removed {} from {} (not this host's lease)", a.str(), tunnel_dev_->name);
        }
    for (const IpAddr &a : wanted)
        nl.ensure_address(tunnel_dev_->name, a, a.is_v4() ? 32 : 128);
}

void ClusterMember::write_subnet_env(const ClusterConfig &config, const SubnetRecord &own) const
{
    SubnetEnv env;
    env.network = config.network;
    env.subnet = own.subnet;
    env.ipv6_network = config.ipv6_network;
    env.ipv6_subnet = own.ipv6_subnet;
    env.ip_masq = opts_.ip_masq;
    // host-gw adds no header: containers get the MTU of the device the peers are reached by;
    // vxlan takes its header off that.
    env.mtu = public_mtu(own.public_ip) - (config.backend == ClusterBackend::Vxlan ? kVxlanOverhead : 0);
    env.write(opts_.subnet_file);
}

void ClusterMember::apply_listing(const EtcdClient &etcd, const ClusterConfig &config, std::int64_t &revision)
{
    const EtcdRange range = etcd.get_prefix(opts_.prefix + "/subnets/");
    std::vector<std::string> skipped;
    const std::vector<SubnetRecord> records = read_subnets(range, config, skipped);
    for (const std::string &s : skipped)
        spdlog::warn("cluster: skipped {}", s);
    health_.skipped_records += skipped.size();
    ClusterPicture picture;
    picture.networks.push_back(*config.network);
    if (config.ipv6_network)
        picture.networks.push_back(*config.ipv6_network);
    const std::optional<SubnetRecord> own = lease();
    bool own_seen = false;
    for (const SubnetRecord &r : records) {
        const Whose w = whose(r, own);
        own_seen |= w == Whose::Own;
        if (w != Whose::Peer)
            continue;
        for (const PeerSubnet &p : peers_of(r, config))
            picture.peers.push_back(p);
    }
    for (const std::string &p : table_.set(picture)) {
        spdlog::warn("cluster: {}", p);
        health_.route_problems++;
    }
    health_.peers = picture.peers.size();
    health_.resyncs++;
    revision = range.revision + 1;
    if (own && !own_seen) {
        lease_lost_ = true;
        throw Error("this host's subnet " + own->subnet.str() + " is no longer in etcd: leasing again");
    }
    spdlog::info("cluster: {} subnets of other hosts, as of etcd revision {}", picture.peers.size(), range.revision);
    write_status();
}

bool ClusterMember::apply_events(const ClusterConfig &config, const std::vector<EtcdEvent> &events)
{
    const std::optional<SubnetRecord> own = lease();
    for (const EtcdEvent &e : events) {
        health_.events++;
        try {
            if (e.deleted) {
                const auto [subnet, subnet6] = parse_subnet_key(e.kv.key);
                if (own && subnet == own->subnet)
                    return false;
                table_.remove(subnet);
                if (subnet6)
                    table_.remove(*subnet6);
                spdlog::info("cluster: subnet {} left", subnet.str());
                continue;
            }
            std::vector<std::string> skipped;
            for (const SubnetRecord &r : read_subnets(EtcdRange{{e.kv}, 0}, config, skipped)) {
                if (whose(r, own) != Whose::Peer)
                    continue;
                for (const PeerSubnet &p : peers_of(r, config))
                    for (const std::string &problem : table_.put(p)) {
                        spdlog::warn("cluster: {}", problem);
                        health_.route_problems++;
                    }
                spdlog::info("cluster: subnet {} is at {}", r.subnet.str(), r.public_ip.str());
            }
            for (const std::string &why : skipped)
                spdlog::warn("cluster: skipped {}", why);
            health_.skipped_records += skipped.size();
        } catch (const Error &err) {
            spdlog::warn("cluster: skipped an event: {}", err.what());
            health_.skipped_records++;
        }
    }
    health_.peers = table_.list().peers.size();
    health_.last_event_ms = now_ms();
    write_status();
    return true;
}

void ClusterMember::session(const EtcdClient &etcd)
{
    const ClusterConfig config = load_config(etcd);
    LeaseRequest req;
    req.prefix = opts_.prefix;
    req.public_ip = public_ip();
    if (config.backend == ClusterBackend::Vxlan) {
        ensure_tunnel(config, req.public_ip);
        req.backend_data = {{"VNI", config.vni}, {"VtepMAC", tunnel_dev_->mac.str()}};
    }
    req.public_ipv6 = opts_.public_ipv6;
    req.ttl_s = opts_.lease_ttl_s;
    if (const auto own = lease())
        req.previous = own->subnet;
    else if (std::filesystem::exists(opts_.subnet_file)) {
        try {
            req.previous = SubnetEnv::read(opts_.subnet_file).subnet;
        } catch (const Error &e) {
            spdlog::warn("cluster: the previous subnet is not known: {}", e.what());
        }
    }
    std::vector<std::string> skipped;
    const HostLease l = SubnetLeaser(etcd, config).acquire(req, skipped);
    for (const std::string &s : skipped)
        spdlog::warn("cluster: skipped {}", s);
    {
        std::lock_guard<std::mutex> g(mu_);
        own_ = l.record;
        config_ = config;
    }
    lease_lost_ = false;
    lease_ttl_ = l.ttl;
    lease_id_ = l.record.lease;
    health_.lease_expires_ms = now_ms() + l.ttl * 1000;
    spdlog::info("cluster: {} subnet {}{} at {} (etcd lease {:x}, TTL {} s)", l.reused ? "kept" : "leased", l.record.subnet.str(),
                 l.record.ipv6_subnet ? " and " + l.record.ipv6_subnet->str() : "", l.record.public_ip.str(), l.record.lease, l.ttl);
    if (config.backend == ClusterBackend::Vxlan)
        address_tunnel(l.record);
    write_subnet_env(config, l.record);
    health_.connected = true;
    {
        std::lock_guard<std::mutex> g(mu_);
        etcd_at_ = etcd.current_endpoint();
    }

    std::int64_t revision = 0;
    apply_listing(etcd, config, revision);
    while (!stopping() && !lease_lost_) {
        interrupt_ = false;
        const EtcdWatchEnd end = etcd.watch_prefix(
            opts_.prefix + "/subnets/", revision,
            [&](const std::vector<EtcdEvent> &events, std::int64_t) {
                if (apply_events(config, events))
                    return true;
                lease_lost_ = true;
                return false;
            },
            &interrupt_);
        revision = end.next_revision;
        switch (end.why) {
        case EtcdWatchEnd::Why::Compacted:
            spdlog::warn("cluster: the watch fell behind etcd's compaction ({}): listing again", end.detail);
            apply_listing(etcd, config, revision);
            break;
        case EtcdWatchEnd::Why::Stopped:
            break; // stopping, or the lease was lost: the loop's condition says which
        case EtcdWatchEnd::Why::Lost:
            throw Error("the watch ended: " + end.detail);
        }
    }
    if (lease_lost_)
        spdlog::warn("cluster: this host's lease is gone (etcd was out of reach longer than its TTL?): leasing again");
}

void ClusterMember::run()
{
    struct Done {
        std::atomic<bool> &done;
        ~Done() { done = true; }
    } done{runner_done_};
    const EtcdClient etcd(opts_.etcd_endpoints);
    std::chrono::milliseconds backoff(250);
    while (!stopping()) {
        try {
            session(etcd);
            backoff = std::chrono::milliseconds(250);
        } catch (const Error &e) {
            health_.connected = false;
            write_status();
            spdlog::warn("cluster: {} (etcd {}); again in {} ms", e.what(), etcd.current_endpoint(), backoff.count());
            for (auto waited = std::chrono::milliseconds(0); waited < backoff && !stopping(); waited += std::chrono::milliseconds(100))
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
            backoff = std::min(backoff * 2, std::chrono::milliseconds(8000));
        }
    }
    health_.connected = false;
}

void ClusterMember::sync_endpoint_records(const EtcdClient &etcd, std::int64_t lease)
{
    std::optional<SubnetRecord> own;
    std::optional<ClusterConfig> config;
    {
        std::lock_guard<std::mutex> g(mu_);
        own = own_;
        config = config_;
    }
    if (!own || !config)
        return;
    if (lease != recorded_lease_) { // a new lease: the old one's records went with it
        recorded_.clear();
        recorded_lease_ = lease;
    }
    std::set<IpAddr> now;
    for (const auto &[key, ep] : maps_.endpoints.entries()) {
        const IpAddr a = IpAddr::from_raw(key.addr);
        const auto &net = a.is_v4() ? config->network : config->ipv6_network;
        if (ep.kind != FP_EP_REMOTE && net && net->contains(a))
            now.insert(a);
    }
    const std::string dir = opts_.prefix + "/flatpath/endpoints/";
    for (const IpAddr &a : now)
        if (!recorded_.contains(a)) {
            const nlohmann::json value = {{"Host", own->public_ip.str()}, {"Subnet", own->subnet.str()}};
            etcd.put(dir + a.str(), value.dump(), lease);
            recorded_.insert(a);
        }
    for (auto it = recorded_.begin(); it != recorded_.end();)
        if (!now.contains(*it)) {
            etcd.erase(dir + it->str());
            it = recorded_.erase(it);
        } else {
            ++it;
        }
    health_.endpoint_records = recorded_.size();
}

void ClusterMember::keep_alive_loop()
{
    const EtcdClient etcd(opts_.etcd_endpoints, 2);
    std::int64_t next_ms = 0, renewing = 0, next_sync_ms = 0;
    while (!runner_done_) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        // Said again on every tick: a watch started just after one telling still ends.
        if (stopping() || lease_lost_)
            interrupt_ = true;
        if (stopping())
            continue;
        const std::int64_t lease = lease_id_;
        if (!lease || lease_lost_)
            continue;
        if (now_ms() >= next_sync_ms) { // once a second: a new container's record within one
            next_sync_ms = now_ms() + 1000;
            try {
                sync_endpoint_records(etcd, lease);
            } catch (const Error &e) {
                spdlog::debug("cluster: endpoint records: {}", e.what()); // again on the next round
            }
        }
        if (lease != renewing) { // a new lease: its first renewal a third of its TTL from now
            renewing = lease;
            next_ms = now_ms() + lease_ttl_ * 1000 / 3;
            continue;
        }
        if (now_ms() < next_ms)
            continue;
        try {
            const std::int64_t ttl = etcd.keep_alive(lease);
            if (ttl <= 0) {
                lease_id_ = 0;
                lease_lost_ = true;
                interrupt_ = true;
                continue;
            }
            health_.lease_expires_ms = now_ms() + ttl * 1000;
            next_ms = now_ms() + ttl * 1000 / 3;
            write_status();
        } catch (const Error &e) {
            spdlog::debug("cluster: lease renewal failed: {}", e.what());
            next_ms = now_ms() + 1000; // etcd out of reach: again in a second
        }
    }
}

} // namespace fp

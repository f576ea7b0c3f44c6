#include "netlink.hpp"

#include <fcntl.h>
#include <linux/fib_rules.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/link/vxlan.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/route.h>
#include <netlink/route/rule.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string_view>
#include <thread>

#include "error.hpp"

namespace fp {

namespace {

[[noreturn]] void fail(const std::string &what, int nl_err)
{
    throw Error(what + ": " + nl_geterror(nl_err));
}

template <class T, void (*Free)(T *)>
using NlPtr = std::unique_ptr<T, decltype([](T *p) { Free(p); })>;

using LinkPtr = NlPtr<rtnl_link, rtnl_link_put>;
using AddrPtr = NlPtr<nl_addr, nl_addr_put>;

AddrPtr nl_address(const IpAddr &a, int prefix_len)
{
    nl_addr *raw = a.is_v4() ? nl_addr_build(AF_INET, a.raw().b + 12, 4) : nl_addr_build(AF_INET6, a.raw().b, 16);
    if (!raw)
        throw Error("out of memory building a netlink address");
    nl_addr_set_prefixlen(raw, prefix_len);
    return AddrPtr(raw);
}

// An IPv4 or IPv6 address of len bytes at data (0 bytes: the family's "any" address, as
// a default route's empty destination); nothing for another family or length.
std::optional<IpAddr> ip_from_bytes(int family, const void *data, unsigned len)
{
    if ((family != AF_INET && family != AF_INET6) || (len != 0 && len != (family == AF_INET ? 4u : 16u)))
        return std::nullopt;
    fp_addr raw{};
    if (family == AF_INET)
        raw.b[10] = raw.b[11] = 0xff; // IPv4 mapped
    if (len)
        std::memcpy(raw.b + (family == AF_INET ? 12 : 0), data, len);
    return IpAddr::from_raw(raw);
}

// nl_address's inverse.
std::optional<IpAddr> ip_of(nl_addr *a)
{
    return ip_from_bytes(nl_addr_get_family(a), nl_addr_get_binary_addr(a), nl_addr_get_len(a));
}

// Whether link is a vxlan device (not a collect-metadata one) with spec's VNI, port and source.
bool is_vxlan_of(rtnl_link *link, const VxlanSpec &spec)
{
    const char *kind = rtnl_link_get_type(link);
    std::uint32_t vni = 0, port = 0;
    nl_addr *raw_local = nullptr;
    if (!kind || std::string_view(kind) != "vxlan" || rtnl_link_vxlan_get_collect_metadata(link) != 0 ||
        rtnl_link_vxlan_get_id(link, &vni) != 0 || rtnl_link_vxlan_get_port(link, &port) != 0 ||
        rtnl_link_vxlan_get_local(link, &raw_local) != 0)
        return false;
    const AddrPtr local(raw_local); // a copy of the device's: ours to put
    return vni == spec.vni && port == spec.port && local && ip_of(local.get()) == spec.local;
}

} // namespace

Netlink::Netlink(const std::string &netns_path)
{
    UniqueFd ns;
    if (!netns_path.empty()) {
        ns.reset(::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC));
        if (ns.get() < 0)
            throw_errno("cannot open network namespace " + netns_path, errno);
    }
    std::string error;
    const auto open_sockets = [&] {
        sock_ = nl_socket_alloc();
        if (!sock_ || nl_connect(sock_, NETLINK_ROUTE) != 0)
            error = "cannot open a netlink route socket";
        ioctl_fd_.reset(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    };
    if (ns.get() < 0) {
        open_sockets();
    } else {
        // A thread joins the namespace and opens the sockets there; they stay bound to it
        // after the thread is gone, and this process's own namespace never changes.
        std::thread opener([&] {
            if (::setns(ns.get(), CLONE_NEWNET) != 0)
                error = "cannot enter network namespace " + netns_path + ": " + std::strerror(errno);
            else
                open_sockets();
        });
        opener.join();
    }
    if (!error.empty()) {
        nl_socket_free(sock_);
        throw Error(error);
    }
}

Netlink::~Netlink()
{
    nl_socket_free(sock_);
}

namespace {

NetDev from_link(rtnl_link *link)
{
    NetDev dev;
    dev.ifindex = static_cast<std::uint32_t>(rtnl_link_get_ifindex(link));
    dev.name = rtnl_link_get_name(link);
    if (const char *type = rtnl_link_get_type(link))
        dev.type = type;
    dev.l2 = rtnl_link_get_arptype(link) == ARPHRD_ETHER;
    dev.mtu = rtnl_link_get_mtu(link);
    dev.master = static_cast<std::uint32_t>(rtnl_link_get_master(link));
    dev.link = static_cast<std::uint32_t>(rtnl_link_get_link(link));
    if (nl_addr *addr = rtnl_link_get_addr(link); addr && nl_addr_get_len(addr) == 6)
        dev.mac = MacAddr::from(static_cast<const std::uint8_t *>(nl_addr_get_binary_addr(addr)));
    return dev;
}

std::optional<NetDev> query(nl_sock *sock, int ifindex, const char *name)
{
    rtnl_link *raw = nullptr;
    if (rtnl_link_get_kernel(sock, ifindex, name, &raw) != 0)
        return std::nullopt;
    LinkPtr link(raw);
    return from_link(link.get());
}

} // namespace

std::optional<NetDev> Netlink::link(const std::string &name) const
{
    return query(sock_, 0, name.c_str());
}

std::optional<NetDev> Netlink::link(std::uint32_t ifindex) const
{
    return query(sock_, static_cast<int>(ifindex), nullptr);
}

std::vector<NetDev> Netlink::links() const
{
    nl_cache *raw = nullptr;
    if (rtnl_link_alloc_cache(sock_, AF_UNSPEC, &raw) != 0)
        throw Error("cannot list network interfaces over netlink");
    NlPtr<nl_cache, nl_cache_free> cache(raw);
    std::vector<NetDev> out;
    for (nl_object *o = nl_cache_get_first(cache.get()); o; o = nl_cache_get_next(o))
        out.push_back(from_link(reinterpret_cast<rtnl_link *>(o)));
    return out;
}

std::optional<std::uint32_t> Netlink::link_index(const std::string &name) const
{
    const auto dev = link(name);
    return dev ? std::optional(dev->ifindex) : std::nullopt;
}

std::optional<MacAddr> Netlink::link_mac(const std::string &name) const
{
    const auto dev = link(name);
    return dev && dev->mac != MacAddr{} ? std::optional(dev->mac) : std::nullopt;
}

std::vector<IpAddr> Netlink::addresses(std::uint32_t ifindex) const
{
    nl_cache *raw = nullptr;
    if (rtnl_addr_alloc_cache(sock_, &raw) != 0)
        throw Error("cannot list addresses over netlink");
    NlPtr<nl_cache, nl_cache_free> cache(raw);
    std::vector<IpAddr> out;
    for (nl_object *o = nl_cache_get_first(cache.get()); o; o = nl_cache_get_next(o)) {
        auto *addr = reinterpret_cast<rtnl_addr *>(o);
        if (ifindex && static_cast<std::uint32_t>(rtnl_addr_get_ifindex(addr)) != ifindex)
            continue;
        nl_addr *local = rtnl_addr_get_local(addr);
        if (const auto a = local ? ip_of(local) : std::nullopt; a && nl_addr_get_len(local) != 0)
            out.push_back(*a);
    }
    return out;
}

namespace {

// The address in a route attribute of family (a full address: an empty one is none).
std::optional<IpAddr> attr_ip(int family, const nlattr *a)
{
    const auto len = static_cast<unsigned>(nla_len(a));
    return len ? ip_from_bytes(family, nla_data(a), len) : std::nullopt;
}

// One RTM_NEWROUTE of a dump into the vector at arg: the main table's unicast routes,
// with their first next hop.
int parse_route(nl_msg *msg, void *arg)
{
    nlmsghdr *h = nlmsg_hdr(msg);
    nlattr *tb[RTA_MAX + 1] = {};
    if (h->nlmsg_type != RTM_NEWROUTE || nlmsg_parse(h, sizeof(rtmsg), tb, RTA_MAX, nullptr) < 0)
        return NL_OK;
    const auto *rtm = static_cast<const rtmsg *>(nlmsg_data(h));
    const int family = rtm->rtm_family;
    const std::uint32_t table = tb[RTA_TABLE] ? nla_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
    if ((family != AF_INET && family != AF_INET6) || table != RT_TABLE_MAIN || rtm->rtm_type != RTN_UNICAST)
        return NL_OK;
    Route r;
    const auto dst = tb[RTA_DST] ? attr_ip(family, tb[RTA_DST]) : ip_from_bytes(family, nullptr, 0);
    if (!dst)
        return NL_OK;
    r.dst = *dst;
    r.prefix_len = rtm->rtm_dst_len;
    r.protocol = rtm->rtm_protocol;
    const nlattr *gateway = tb[RTA_GATEWAY];
    if (tb[RTA_OIF])
        r.ifindex = nla_get_u32(tb[RTA_OIF]);
    if (tb[RTA_MULTIPATH] && nla_len(tb[RTA_MULTIPATH]) >= static_cast<int>(sizeof(rtnexthop))) {
        auto *nh = static_cast<rtnexthop *>(nla_data(tb[RTA_MULTIPATH]));
        nlattr *nh_tb[RTA_MAX + 1] = {};
        r.ifindex = static_cast<std::uint32_t>(nh->rtnh_ifindex);
        const int len = std::min<int>(nh->rtnh_len, nla_len(tb[RTA_MULTIPATH])) - static_cast<int>(sizeof(rtnexthop));
        if (len > 0 && nla_parse(nh_tb, RTA_MAX, reinterpret_cast<nlattr *>(RTNH_DATA(nh)), len, nullptr) == 0)
            gateway = nh_tb[RTA_GATEWAY];
    }
    if (gateway)
        r.gateway = attr_ip(family, gateway);
    static_cast<std::vector<Route> *>(arg)->push_back(r);
    return NL_OK;
}

} // namespace

// A dump parsed here rather than by libnl's route cache: libnl 3.7 fails the whole dump
// when one route carries an encapsulation it does not know (another tool's IP lightweight
// tunnel, seg6 or BPF routes), and flatpath would then see no route at all.
std::vector<Route> Netlink::routes() const
{
    rtmsg req{};
    req.rtm_family = AF_UNSPEC;
    if (const int err = nl_send_simple(sock_, RTM_GETROUTE, NLM_F_DUMP, &req, sizeof req); err < 0)
        fail("cannot list routes", err);
    NlPtr<nl_cb, nl_cb_put> cb(nl_cb_alloc(NL_CB_DEFAULT));
    if (!cb)
        throw Error("cannot list routes: out of memory");
    std::vector<Route> out;
    nl_cb_set(cb.get(), NL_CB_VALID, NL_CB_CUSTOM, parse_route, &out);
    if (const int err = nl_recvmsgs(sock_, cb.get()); err < 0)
        fail("cannot list routes", err);
    return out;
}

void Netlink::create_veth(const std::string &name, const std::string &peer, const std::string &peer_netns_path,
                          std::uint32_t mtu, const std::optional<MacAddr> &peer_mac)
{
    const UniqueFd ns(::open(peer_netns_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (ns.get() < 0)
        throw_errno("cannot open network namespace " + peer_netns_path, errno);
    LinkPtr link(rtnl_link_veth_alloc());
    rtnl_link_set_name(link.get(), name.c_str());
    if (mtu)
        rtnl_link_set_mtu(link.get(), mtu);
    rtnl_link *p = rtnl_link_veth_get_peer(link.get());
    rtnl_link_set_name(p, peer.c_str());
    rtnl_link_set_ns_fd(p, ns.get());
    if (mtu)
        rtnl_link_set_mtu(p, mtu);
    AddrPtr mac;
    if (peer_mac) {
        mac = AddrPtr(nl_addr_build(AF_LLC, peer_mac->bytes().data(), 6));
        rtnl_link_set_addr(p, mac.get());
    }
    const int err = rtnl_link_add(sock_, link.get(), NLM_F_CREATE | NLM_F_EXCL);
    rtnl_link_put(p);
    if (err < 0)
        fail("cannot create veth pair " + name + "/" + peer, err);
}

void Netlink::set_up(const std::string &name)
{
    rtnl_link *raw = nullptr;
    if (const int err = rtnl_link_get_kernel(sock_, 0, name.c_str(), &raw); err < 0)
        fail("cannot find link " + name, err);
    LinkPtr link(raw);
    LinkPtr change(rtnl_link_alloc());
    rtnl_link_set_flags(change.get(), IFF_UP);
    if (const int err = rtnl_link_change(sock_, link.get(), change.get(), 0); err < 0)
        fail("cannot set " + name + " up", err);
}

bool Netlink::ensure_bridge(const std::string &name)
{
    if (link_exists(name))
        return false;
    LinkPtr link(rtnl_link_alloc());
    rtnl_link_set_name(link.get(), name.c_str());
    if (const int err = rtnl_link_set_type(link.get(), "bridge"); err < 0)
        fail("cannot make a bridge link", err);
    if (const int err = rtnl_link_add(sock_, link.get(), NLM_F_CREATE | NLM_F_EXCL); err < 0)
        fail("cannot create bridge " + name, err);
    return true;
}

bool Netlink::ensure_vxlan(const std::string &name, const VxlanSpec &spec)
{
    rtnl_link *raw = nullptr;
    if (rtnl_link_get_kernel(sock_, 0, name.c_str(), &raw) == 0) {
        const LinkPtr old(raw);
        if (is_vxlan_of(old.get(), spec))
            return false;
        delete_link(name); // an earlier one of other settings (or an older flatpath's)
    }
    LinkPtr link(rtnl_link_vxlan_alloc());
    rtnl_link_set_name(link.get(), name.c_str());
    rtnl_link_set_mtu(link.get(), spec.mtu);
    rtnl_link_vxlan_set_id(link.get(), spec.vni);
    rtnl_link_vxlan_set_port(link.get(), spec.port);
    AddrPtr local = nl_address(spec.local, 32);
    rtnl_link_vxlan_set_local(link.get(), local.get());
    rtnl_link_vxlan_set_learning(link.get(), 0);
    if (const int err = rtnl_link_add(sock_, link.get(), NLM_F_CREATE | NLM_F_EXCL); err < 0)
        fail("cannot create vxlan device " + name, err);
    return true;
}

void Netlink::set_master(const std::string &dev, const std::string &master)
{
    const auto master_index = link_index(master);
    rtnl_link *raw = nullptr;
    if (!master_index || rtnl_link_get_kernel(sock_, 0, dev.c_str(), &raw) != 0)
        throw Error("cannot enslave " + dev + " to " + master + ": a link is missing");
    LinkPtr link(raw);
    LinkPtr change(rtnl_link_alloc());
    rtnl_link_set_master(change.get(), static_cast<int>(*master_index));
    if (const int err = rtnl_link_change(sock_, link.get(), change.get(), 0); err < 0)
        fail("cannot enslave " + dev + " to " + master, err);
}

bool Netlink::ensure_address(const std::string &dev, const IpAddr &addr, int prefix_len)
{
    if (const int err = add_address_once(dev, addr, prefix_len); err < 0) {
        if (err == -NLE_EXIST)
            return false;
        fail("cannot add address " + addr.str() + " to " + dev, err);
    }
    return true;
}

void Netlink::delete_address(const std::string &dev, const IpAddr &addr, int prefix_len)
{
    const auto index = link_index(dev);
    if (!index)
        return;
    NlPtr<rtnl_addr, rtnl_addr_put> a(rtnl_addr_alloc());
    rtnl_addr_set_ifindex(a.get(), static_cast<int>(*index));
    AddrPtr local = nl_address(addr, prefix_len);
    rtnl_addr_set_local(a.get(), local.get());
    if (const int err = rtnl_addr_delete(sock_, a.get(), 0); err < 0 && err != -NLE_NOADDR && err != -NLE_OBJ_NOTFOUND)
        fail("cannot remove address " + addr.str() + " from " + dev, err);
}

bool Netlink::delete_link(const std::string &name)
{
    LinkPtr link(rtnl_link_alloc());
    rtnl_link_set_name(link.get(), name.c_str());
    const int err = rtnl_link_delete(sock_, link.get());
    if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV)
        return false;
    if (err < 0)
        fail("cannot delete link " + name, err);
    return true;
}

int Netlink::add_address_once(const std::string &dev, const IpAddr &addr, int prefix_len)
{
    const auto index = link_index(dev);
    if (!index)
        throw Error("no link " + dev + " to address");
    NlPtr<rtnl_addr, rtnl_addr_put> a(rtnl_addr_alloc());
    rtnl_addr_set_ifindex(a.get(), static_cast<int>(*index));
    AddrPtr local = nl_address(addr, prefix_len);
    rtnl_addr_set_local(a.get(), local.get());
    // No duplicate address detection: the address is ours by IPAM, and DAD would hold it
    // "tentative" (unusable) for a second or more after ADD returns.
    if (!addr.is_v4())
        rtnl_addr_set_flags(a.get(), IFA_F_NODAD);
    return rtnl_addr_add(sock_, a.get(), 0);
}

void Netlink::add_address(const std::string &dev, const IpAddr &addr, int prefix_len)
{
    if (const int err = add_address_once(dev, addr, prefix_len); err < 0)
        fail("cannot add address " + addr.str() + " to " + dev, err);
}

namespace {

using RoutePtr = NlPtr<rtnl_route, rtnl_route_put>;

// A route message for dst/prefix_len with opts' table, metric and protocol (no next hop yet).
RoutePtr route_to(const IpAddr &dst, int prefix_len, const RouteOptions &opts)
{
    RoutePtr r(rtnl_route_alloc());
    AddrPtr d = nl_address(dst, prefix_len);
    rtnl_route_set_family(r.get(), dst.is_v4() ? AF_INET : AF_INET6);
    rtnl_route_set_dst(r.get(), d.get());
    rtnl_route_set_table(r.get(), opts.table);
    rtnl_route_set_priority(r.get(), opts.metric);
    rtnl_route_set_protocol(r.get(), opts.protocol);
    return r;
}

} // namespace

void Netlink::add_route(const std::string &dev, const IpAddr &dst, int prefix_len, const std::optional<IpAddr> &gateway,
                        const RouteOptions &opts)
{
    const auto index = link_index(dev);
    if (!index)
        throw Error("no link " + dev + " to route through");
    const RoutePtr r = route_to(dst, prefix_len, opts);
    rtnl_route_set_scope(r.get(), gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
    rtnl_nexthop *nh = rtnl_route_nh_alloc();
    rtnl_route_nh_set_ifindex(nh, static_cast<int>(*index));
    if (opts.onlink)
        rtnl_route_nh_set_flags(nh, RTNH_F_ONLINK);
    AddrPtr gw;
    if (gateway) {
        gw = nl_address(*gateway, gateway->is_v4() ? 32 : 128);
        rtnl_route_nh_set_gateway(nh, gw.get());
    }
    rtnl_route_add_nexthop(r.get(), nh);
    if (const int err = rtnl_route_add(sock_, r.get(), NLM_F_CREATE | NLM_F_EXCL); err < 0)
        fail("cannot add route to " + dst.str() + "/" + std::to_string(prefix_len) + " on " + dev +
                 (opts.table != RT_TABLE_MAIN ? " in table " + std::to_string(opts.table) : ""),
             err);
}

void Netlink::replace_gateway_route(const IpAddr &dst, int prefix_len, const IpAddr &gateway, const RouteOptions &opts)
{
    const RoutePtr r = route_to(dst, prefix_len, opts);
    rtnl_route_set_scope(r.get(), RT_SCOPE_UNIVERSE);
    rtnl_nexthop *nh = rtnl_route_nh_alloc();
    AddrPtr gw = nl_address(gateway, gateway.is_v4() ? 32 : 128);
    rtnl_route_nh_set_gateway(nh, gw.get());
    rtnl_route_add_nexthop(r.get(), nh);
    if (const int err = rtnl_route_add(sock_, r.get(), NLM_F_CREATE | NLM_F_REPLACE); err < 0)
        fail("cannot route " + dst.str() + "/" + std::to_string(prefix_len) + " via " + gateway.str(), err);
}

void Netlink::replace_onlink_route(const IpAddr &dst, int prefix_len, const IpAddr &gateway, const std::string &dev,
                                   const RouteOptions &opts)
{
    const auto index = link_index(dev);
    const std::string what = dst.str() + "/" + std::to_string(prefix_len) + " via " + gateway.str() + " on " + dev;
    if (!index)
        throw Error("no link " + dev + " to route " + dst.str() + "/" + std::to_string(prefix_len) + " through");
    const RoutePtr r = route_to(dst, prefix_len, opts);
    rtnl_route_set_scope(r.get(), RT_SCOPE_UNIVERSE);
    rtnl_nexthop *nh = rtnl_route_nh_alloc();
    rtnl_route_nh_set_ifindex(nh, static_cast<int>(*index));
    rtnl_route_nh_set_flags(nh, RTNH_F_ONLINK);
    AddrPtr gw = nl_address(gateway, gateway.is_v4() ? 32 : 128);
    rtnl_route_nh_set_gateway(nh, gw.get());
    rtnl_route_add_nexthop(r.get(), nh);
    if (const int err = rtnl_route_add(sock_, r.get(), NLM_F_CREATE | NLM_F_REPLACE); err < 0)
        fail("cannot route " + what, err);
}

bool Netlink::delete_route(const IpAddr &dst, int prefix_len, std::uint8_t protocol)
{
    RouteOptions main;
    main.protocol = protocol;
    const RoutePtr r = route_to(dst, prefix_len, main);
    rtnl_route_set_scope(r.get(), RT_SCOPE_NOWHERE); // any scope
    const int err = rtnl_route_delete(sock_, r.get(), 0);
    if (err == -NLE_OBJ_NOTFOUND)
        return false;
    if (err < 0)
        fail("cannot remove the route to " + dst.str() + "/" + std::to_string(prefix_len), err);
    return true;
}

namespace {

using RulePtr = NlPtr<rtnl_rule, rtnl_rule_put>;

RulePtr source_rule(const IpAddr &from, std::uint32_t priority)
{
    RulePtr rule(rtnl_rule_alloc());
    rtnl_rule_set_family(rule.get(), from.is_v4() ? AF_INET : AF_INET6);
    AddrPtr src = nl_address(from, from.is_v4() ? 32 : 128);
    rtnl_rule_set_src(rule.get(), src.get());
    rtnl_rule_set_prio(rule.get(), priority);
    return rule;
}

} // namespace

void Netlink::add_source_rule(const IpAddr &from, std::uint32_t table, std::uint32_t priority)
{
    RulePtr rule = source_rule(from, priority);
    rtnl_rule_set_action(rule.get(), FR_ACT_TO_TBL);
    rtnl_rule_set_table(rule.get(), table);
    if (const int err = rtnl_rule_add(sock_, rule.get(), NLM_F_CREATE | NLM_F_EXCL); err < 0)
        fail("cannot add rule from " + from.str() + " lookup " + std::to_string(table), err);
}

bool Netlink::delete_source_rule(const IpAddr &from, std::uint32_t priority)
{
    RulePtr rule = source_rule(from, priority);
    const int err = rtnl_rule_delete(sock_, rule.get(), 0);
    if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NOADDR || err == -NLE_NODEV)
        return false;
    if (err < 0)
        fail("cannot remove rule from " + from.str(), err);
    return true;
}

void Netlink::add_permanent_neighbour(const std::string &dev, const IpAddr &addr, const MacAddr &mac)
{
    const auto index = link_index(dev);
    if (!index)
        throw Error("no link " + dev + " for a neighbour");
    NlPtr<rtnl_neigh, rtnl_neigh_put> n(rtnl_neigh_alloc());
    rtnl_neigh_set_ifindex(n.get(), static_cast<int>(*index));
    AddrPtr dst = nl_address(addr, addr.is_v4() ? 32 : 128);
    AddrPtr ll(nl_addr_build(AF_LLC, mac.bytes().data(), 6));
    rtnl_neigh_set_dst(n.get(), dst.get());
    rtnl_neigh_set_lladdr(n.get(), ll.get());
    rtnl_neigh_set_state(n.get(), NUD_PERMANENT);
    if (const int err = rtnl_neigh_add(sock_, n.get(), NLM_F_CREATE | NLM_F_REPLACE); err < 0)
        fail("cannot add neighbour " + addr.str() + " on " + dev, err);
}

namespace {

using NeighPtr = NlPtr<rtnl_neigh, rtnl_neigh_put>;

// A proxy neighbour entry for addr on ifindex (NTF_PROXY: no link-layer address).
NeighPtr proxy_entry(std::uint32_t ifindex, const IpAddr &addr)
{
    NeighPtr n(rtnl_neigh_alloc());
    rtnl_neigh_set_ifindex(n.get(), static_cast<int>(ifindex));
    rtnl_neigh_set_family(n.get(), addr.is_v4() ? AF_INET : AF_INET6);
    AddrPtr dst = nl_address(addr, addr.is_v4() ? 32 : 128);
    rtnl_neigh_set_dst(n.get(), dst.get());
    rtnl_neigh_set_flags(n.get(), NTF_PROXY);
    return n;
}

// Deletes a neighbour or FDB entry; false when it (or its device) is not there.
bool delete_entry(nl_sock *sock, rtnl_neigh *n, const std::string &what)
{
    const int err = rtnl_neigh_delete(sock, n, 0);
    if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NOADDR || err == -NLE_NODEV)
        return false;
    if (err < 0)
        fail("cannot remove " + what, err);
    return true;
}

// A vxlan device's FDB entry for mac (the device's own table: NTF_SELF).
NeighPtr fdb_entry(std::uint32_t ifindex, const MacAddr &mac)
{
    NeighPtr n(rtnl_neigh_alloc());
    rtnl_neigh_set_ifindex(n.get(), static_cast<int>(ifindex));
    rtnl_neigh_set_family(n.get(), AF_BRIDGE);
    AddrPtr ll(nl_addr_build(AF_LLC, mac.bytes().data(), 6));
    rtnl_neigh_set_lladdr(n.get(), ll.get());
    rtnl_neigh_set_flags(n.get(), NTF_SELF);
    rtnl_neigh_set_state(n.get(), NUD_PERMANENT);
    return n;
}

} // namespace

void Netlink::add_proxy_neighbour(const std::string &dev, const IpAddr &addr)
{
    const auto index = link_index(dev);
    if (!index)
        throw Error("no link " + dev + " to answer for " + addr.str() + " on");
    const NeighPtr n = proxy_entry(*index, addr);
    if (const int err = rtnl_neigh_add(sock_, n.get(), NLM_F_CREATE); err < 0)
        fail("cannot answer for " + addr.str() + " on " + dev + " (proxy neighbour)", err);
}

bool Netlink::delete_neighbour(std::uint32_t ifindex, const IpAddr &addr)
{
    NeighPtr n(rtnl_neigh_alloc());
    rtnl_neigh_set_ifindex(n.get(), static_cast<int>(ifindex));
    rtnl_neigh_set_family(n.get(), addr.is_v4() ? AF_INET : AF_INET6);
    AddrPtr dst = nl_address(addr, addr.is_v4() ? 32 : 128);
    rtnl_neigh_set_dst(n.get(), dst.get());
    return delete_entry(sock_, n.get(), "the neighbour entry " + addr.str() + " (ifindex " + std::to_string(ifindex) + ")");
}

void Netlink::replace_fdb_entry(const std::string &dev, const MacAddr &mac, const IpAddr &remote)
{
    const std::string what = "cannot send " + mac.str() + " to " + remote.str() + " on " + dev + " (fdb)";
    const auto index = link_index(dev);
    if (!index)
        throw Error("no link " + dev + " for a forwarding entry");
    nl_msg *raw = nullptr;
    const NeighPtr entry = fdb_entry(*index, mac);
    if (const int err = rtnl_neigh_build_add_request(entry.get(), NLM_F_CREATE | NLM_F_REPLACE, &raw); err < 0)
        fail(what, err);
    NlPtr<nl_msg, nlmsg_free> msg(raw);
    // libnl leaves an AF_BRIDGE entry's destination out of the message: it goes in here.
    const auto &b = remote.raw().b;
    if (nla_put(msg.get(), NDA_DST, remote.is_v4() ? 4 : 16, remote.is_v4() ? b + 12 : b) < 0)
        throw Error(what + ": the destination does not fit the message");
    // nl_send_sync frees the message it sends.
    if (const int err = nl_send_sync(sock_, msg.release()); err < 0)
        fail(what, err);
}

bool Netlink::delete_fdb_entry(std::uint32_t ifindex, const MacAddr &mac)
{
    const NeighPtr n = fdb_entry(ifindex, mac);
    return delete_entry(sock_, n.get(), "the forwarding entry " + mac.str() + " (ifindex " + std::to_string(ifindex) + ")");
}

bool Netlink::delete_proxy_neighbour(const std::string &dev, const IpAddr &addr)
{
    const auto index = link_index(dev);
    if (!index)
        return false; // the device went, and its entries with it
    const NeighPtr n = proxy_entry(*index, addr);
    return delete_entry(sock_, n.get(), "the proxy entry for " + addr.str() + " on " + dev);
}

void Netlink::enable_gro(const std::string &dev)
{
    if (const int err = fp::enable_gro(ioctl_fd_.get(), dev))
        throw Error("cannot turn GRO on for " + dev + ": " + std::strerror(err));
}

} // namespace fp

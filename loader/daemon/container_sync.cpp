#include "container_sync.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "endpoints.hpp"
#include "error.hpp"
#include "host_veth.hpp"
#include "netdev.hpp"
#include "policy.hpp"

namespace fp {

namespace {

template <class T>
bool contains(const std::vector<T> &v, const T &x)
{
    return std::find(v.begin(), v.end(), x) != v.end();
}

std::string label(const std::string &name, const std::string &id)
{
    return (name.empty() ? "" : name + " ") + "(" + id.substr(0, 12) + ")";
}

// Runs one step; a failure is logged and counted instead of ending the whole change.
class Steps {
public:
    explicit Steps(std::string who) : who_(std::move(who)) {}
    template <class F>
    bool run(F &&step)
    {
        try {
            step();
            return true;
        } catch (const std::exception &e) {
            problem(e.what());
            return false;
        }
    }
    void problem(const std::string &what)
    {
        spdlog::error("container {}: {}", who_, what);
        ++problems_;
    }
    const std::string &who() const { return who_; }
    std::size_t problems() const { return problems_; }

private:
    std::string who_;
    std::size_t problems_ = 0;
};

// Removes `old`'s entries that `keep` does not hold; an entry the maps no longer hold as
// recorded (someone changed it) is left alone.
void remove_unwanted(const PinRoot &root, MapSet &maps, const AppliedState &old, const AppliedState &keep, Steps &steps)
{
    DnatTable dnat(root, maps);
    for (const DnatRule &r : old.dnat)
        if (!contains(keep.dnat, r) && dnat.holds(r) && steps.run([&] { dnat.remove(r.host, r.proto, r.ports); }))
            spdlog::info("container {}: unpublished {}", steps.who(), r.published());
    MarkRules marks(root, maps);
    for (const MarkRule &r : old.marks)
        if (!contains(keep.marks, r) && marks.holds(r) && steps.run([&] { marks.remove(r); }))
            spdlog::info("container {}: removed mark {}", steps.who(), r.describe());
    Endpoints endpoints(root, maps);
    for (const IpAddr &a : old.endpoints)
        if (!contains(keep.endpoints, a) && maps.endpoints.lookup(endpoint_key(a)) &&
            steps.run([&] { endpoints.remove(a); }))
            spdlog::info("container {}: endpoint {} removed", steps.who(), a.str());
}

// The policy labels' firewall on each device the container's addresses are on (its own
// endpoints or the plugin's). It goes with the endpoints when the container does.
void apply_firewall(const PinRoot &root, MapSet &maps, const ContainerPlan &plan, Steps &steps)
{
    std::set<std::uint32_t> devices;
    for (const PlannedAddress &a : plan.addresses)
        if (const auto ep = maps.endpoints.lookup(endpoint_key(a.addr)))
            devices.insert(ep->ifindex);
    Policies policies(root, maps);
    for (const std::uint32_t ifindex : devices) {
        if (policies.get(ifindex) == plan.firewall)
            continue;
        if (steps.run([&] { policies.set(ifindex, *plan.firewall); }))
            spdlog::info("container {}: policy {} on ifindex {}", steps.who(), plan.firewall->summary(), ifindex);
    }
}

} // namespace

ContainerSync::ContainerSync(const PinRoot &root, MapSet &maps, const DaemonRecords &records)
    : root_(root), maps_(maps), records_(records), applied_(records.load_all())
{
}

void ContainerSync::remember(const std::string &id, const AppliedState &state)
{
    const auto known = applied_.find(id);
    if (known == applied_.end() ? state.empty() : known->second == state)
        return; // the record says so already: an event that changes nothing writes nothing
    if (state.empty()) {
        records_.erase(id);
        applied_.erase(id);
    } else {
        records_.save(id, state);
        applied_[id] = state;
    }
}

std::size_t ContainerSync::apply(const ContainerInfo &c, const ContainerPlan &plan)
{
    Steps steps(label(c.name, c.id));
    for (const std::string &p : plan.problems)
        steps.problem(p);
    const AppliedState before = applied_.count(c.id) ? applied_[c.id] : AppliedState{};
    Endpoints endpoints(root_, maps_);

    // Which planned addresses are (or become) the daemon's own endpoints: not those that
    // someone else registered (the CNI plugin's containers are fast-pathed already).
    AppliedState wanted{c.name, {}, plan.dnat, plan.marks};
    for (const PlannedAddress &a : plan.addresses)
        if (contains(before.endpoints, a.addr) || !maps_.endpoints.lookup(endpoint_key(a.addr)))
            wanted.endpoints.push_back(a.addr);

    // Removals first: a backend that moved frees its port for the new one.
    remove_unwanted(root_, maps_, before, wanted, steps);
    remember(c.id, wanted); // the intent is recorded before anything is added (see DaemonRecords)

    AppliedState done{c.name, {}, {}, {}};
    for (const PlannedAddress &a : plan.addresses) {
        if (!contains(wanted.endpoints, a.addr))
            continue;
        if (const auto ep = maps_.endpoints.lookup(endpoint_key(a.addr))) {
            if (NetDev::by_index(ep->ifindex)) {
                done.endpoints.push_back(a.addr);
                continue;
            }
            // A restarted container has a new veth: the old one's entry goes first.
            steps.run([&] { endpoints.remove(a.addr); });
        }
        steps.run([&] {
            const NetDev dev = find_host_veth(container_netns_path(c), a.mac);
            // The bridge is the container's network: containers of two bridges stay apart.
            endpoints.add(EndpointSpec{{a.addr}, dev.name, a.mac, dev.master});
            done.endpoints.push_back(a.addr);
            spdlog::info("container {}: endpoint {} on {} (network {})", steps.who(), a.addr.str(), dev.name, a.network);
        });
    }
    DnatTable dnat(root_, maps_);
    for (const DnatRule &r : plan.dnat) {
        if (dnat.holds(r) || steps.run([&] {
                dnat.add(r);
                spdlog::info("container {}: published {} to {}:{}", steps.who(), r.published(), r.backend.str(),
                             r.backend_ports.str());
            }))
            done.dnat.push_back(r);
    }
    MarkRules marks(root_, maps_);
    for (const MarkRule &r : plan.marks) {
        if (marks.holds(r) || steps.run([&] {
                marks.add(r);
                spdlog::info("container {}: mark {}", steps.who(), r.describe());
            }))
            done.marks.push_back(r);
    }
    if (plan.firewall)
        apply_firewall(root_, maps_, plan, steps);
    remember(c.id, done);
    return steps.problems();
}

std::size_t ContainerSync::forget(const std::string &container_id)
{
    const auto it = applied_.find(container_id);
    if (it == applied_.end())
        return 0;
    Steps steps(label(it->second.name, container_id));
    remove_unwanted(root_, maps_, it->second, AppliedState{}, steps);
    remember(container_id, AppliedState{});
    return steps.problems();
}

std::size_t ContainerSync::forget_all_but(const std::set<std::string> &keep)
{
    std::vector<std::string> gone;
    for (const auto &[id, state] : applied_)
        if (!keep.contains(id))
            gone.push_back(id);
    std::size_t problems = 0;
    for (const std::string &id : gone)
        problems += forget(id);
    return problems;
}

} // namespace fp

#include "map_set.hpp"

#include <unistd.h>

#include <cerrno>

#include "error.hpp"

namespace fp {

namespace {

// Where each map's fd comes from: a pin, or another owner's fd.
using TakeFd = std::function<MapFd(const char *name)>;

template <class Map>
Map one(const TakeFd &take, const char *name)
{
    return Map(take(name), name);
}

MapSet assemble(const TakeFd &take)
{
    return MapSet{
        one<EndpointMap>(take, FP_MAP_ENDPOINTS), one<EpPrefixMap>(take, FP_MAP_EP_PREFIXES),
        one<IfaceMap>(take, FP_MAP_IFACES),
        one<TxDevMap>(take, FP_MAP_TX_DEVS),      one<EpStatsMap>(take, FP_MAP_EP_STATS),
        one<ReasonMap>(take, FP_MAP_REASONS),     one<DnatMap>(take, FP_MAP_DNAT),
        one<RangeMap>(take, FP_MAP_DNAT_RANGES),  one<LocalAddrMap>(take, FP_MAP_LOCAL_ADDRS),
        one<BackendMap>(take, FP_MAP_BACKENDS),
        one<CtMap>(take, FP_MAP_CT),              one<CtMap>(take, FP_MAP_CT_NEW),
        one<MarkMap>(take, FP_MAP_MARKS),
        one<ConfigMap>(take, FP_MAP_CONFIG),
        one<MasqMap>(take, FP_MAP_MASQ),          one<MasqExceptMap>(take, FP_MAP_MASQ_EXCEPT),
        one<ClusterMap>(take, FP_MAP_CLUSTER),
        one<TraceFilterMap>(take, FP_MAP_TRACE_FILTER), one<TraceCpuMap>(take, FP_MAP_TRACE_CPU),
        one<PolicyMap>(take, FP_MAP_POLICY),      one<PolicyFlowMap>(take, FP_MAP_POLICY_FLOWS),
    };
}

} // namespace

MapSet MapSet::open_pinned(const std::string &pin_root)
{
    return assemble([&](const char *name) {
        const std::string path = pin_root + "/" + name;
        // A datapath made by an older flatpath has the maps of its day only.
        if (::access(path.c_str(), F_OK) != 0 && errno == ENOENT && ::access(pin_root.c_str(), F_OK) == 0)
            throw Error("the datapath at " + pin_root + " predates map " + name +
                        " (an older flatpath made it): run `flatpath up` to add it");
        return MapFd::open_pinned(path);
    });
}

MapSet MapSet::from_fds(const std::function<int(const char *name)> &fd_of)
{
    return assemble([&](const char *name) { return MapFd::dup_of(fd_of(name)); });
}

} // namespace fp

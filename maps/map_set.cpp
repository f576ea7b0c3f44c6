#include "map_set.hpp"

namespace fp {

namespace {

template <class Map>
Map open_one(const std::string &pin_root, const char *name)
{
    return Map(MapFd::open_pinned(pin_root + "/" + name), name);
}

template <class Map>
Map wrap_one(const std::function<int(const char *)> &fd_of, const char *name)
{
    return Map(MapFd::dup_of(fd_of(name)), name);
}

} // namespace

MapSet MapSet::open_pinned(const std::string &pin_root)
{
    return MapSet{
        open_one<EndpointMap>(pin_root, FP_MAP_ENDPOINTS), open_one<IfaceMap>(pin_root, FP_MAP_IFACES),
        open_one<TxDevMap>(pin_root, FP_MAP_TX_DEVS),      open_one<EpStatsMap>(pin_root, FP_MAP_EP_STATS),
        open_one<ReasonMap>(pin_root, FP_MAP_REASONS),     open_one<DnatMap>(pin_root, FP_MAP_DNAT),
        open_one<RangeMap>(pin_root, FP_MAP_DNAT_RANGES),  open_one<LocalAddrMap>(pin_root, FP_MAP_LOCAL_ADDRS),
        open_one<BackendMap>(pin_root, FP_MAP_BACKENDS),
        open_one<CtMap>(pin_root, FP_MAP_CT),              open_one<CtMap>(pin_root, FP_MAP_CT_NEW),
        open_one<MarkMap>(pin_root, FP_MAP_MARKS),
        open_one<ConfigMap>(pin_root, FP_MAP_CONFIG),
    };
}

MapSet MapSet::from_fds(const std::function<int(const char *name)> &fd_of)
{
    return MapSet{
        wrap_one<EndpointMap>(fd_of, FP_MAP_ENDPOINTS), wrap_one<IfaceMap>(fd_of, FP_MAP_IFACES),
        wrap_one<TxDevMap>(fd_of, FP_MAP_TX_DEVS),      wrap_one<EpStatsMap>(fd_of, FP_MAP_EP_STATS),
        wrap_one<ReasonMap>(fd_of, FP_MAP_REASONS),     wrap_one<DnatMap>(fd_of, FP_MAP_DNAT),
        wrap_one<RangeMap>(fd_of, FP_MAP_DNAT_RANGES),  wrap_one<LocalAddrMap>(fd_of, FP_MAP_LOCAL_ADDRS),
        wrap_one<BackendMap>(fd_of, FP_MAP_BACKENDS),
        wrap_one<CtMap>(fd_of, FP_MAP_CT),              wrap_one<CtMap>(fd_of, FP_MAP_CT_NEW),
        wrap_one<MarkMap>(fd_of, FP_MAP_MARKS),
        wrap_one<ConfigMap>(fd_of, FP_MAP_CONFIG),
    };
}

} // namespace fp

#include "fillers.hpp"

#include <arpa/inet.h>
#include <bpf/bpf.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include "error.hpp"

namespace fp::bench {

TableSizes filler_table_sizes(std::uint32_t n)
{
    const auto room = [](std::uint32_t need, std::uint32_t dflt) { return std::max(dflt, need + need / 4); };
    TableSizes s;
    s.endpoints = room(n + 2, s.endpoints);
    s.ports = room(n + 1, s.ports);
    s.marks = room(n + 1, s.marks);
    s.flows = room(n * kFlowsPerEntry + 16, s.flows);
    return s;
}

IpAddr filler_addr(std::uint32_t i)
{
    return IpAddr::parse("10." + std::to_string(1 + (i >> 16)) + "." + std::to_string(i >> 8 & 0xff) + "." +
                         std::to_string(i & 0xff));
}

fp_dnat_key filler_dnat_key(std::uint32_t i)
{
    constexpr std::uint32_t kPerAddress = 40000;
    const IpAddr host = IpAddr::parse("10.99." + std::to_string(i / kPerAddress) + ".1");
    return fp_dnat_key{host.raw(), htons(static_cast<std::uint16_t>(20000 + i % kPerAddress)), 6, 0};
}

void fill_flows(MapSet &m, std::uint32_t flows)
{
    constexpr std::size_t kBatch = 65536;
    std::vector<fp_ct_key> keys;
    std::vector<fp_ct_entry> values;
    const fp_addr host = IpAddr::parse("10.99.0.1").raw(), backend = IpAddr::parse("10.0.0.2").raw();
    const auto write = [&] {
        auto count = static_cast<__u32>(keys.size());
        if (count && bpf_map_update_batch(m.ct.fd(), keys.data(), values.data(), &count, nullptr) != 0)
            throw_errno("fill the conntrack table with " + std::to_string(flows) + " flows", errno);
        keys.clear();
        values.clear();
    };
    for (std::uint32_t i = 0; i < flows; ++i) {
        // Bits 8-23 of i pick the client's address, bits 0-7 (and 24 up) its port.
        const fp_addr client =
            IpAddr::parse("10.98." + std::to_string(i >> 16 & 0xff) + "." + std::to_string(i >> 8 & 0xff)).raw();
        const auto client_port = htons(static_cast<std::uint16_t>(1024 + (i & 0xff) * 200 + (i >> 24)));
        fp_ct_entry e{};
        e.flags = FP_CT_ASSURED | FP_CT_SEEN_REPLY;
        e.kind = FP_CT_KIND_DNAT;
        e.expires_ns = ~0ull;
        keys.push_back(fp_ct_key{client, host, client_port, htons(8080), 6, FP_CT_ORIGINAL, {}});
        e.saddr = client;
        e.daddr = backend;
        e.sport = client_port;
        e.dport = htons(80);
        values.push_back(e);
        keys.push_back(fp_ct_key{backend, client, htons(80), client_port, 6, FP_CT_REPLY, {}});
        e.saddr = host;
        e.daddr = client;
        e.sport = htons(8080);
        e.dport = client_port;
        values.push_back(e);
        if (keys.size() >= kBatch)
            write();
    }
    write();
}

} // namespace fp::bench

#include "rulesets.hpp"

#include <sstream>

#include "dnat_table.hpp"
#include "mark_rules.hpp"
#include "port_spec.hpp"

namespace fp::bench {

namespace {

std::string port_list(const PublishedContainer &c, std::uint8_t proto)
{
    std::string out;
    for (const ServicePort &p : c.ports)
        if (p.proto == proto)
            out += (out.empty() ? "" : ",") + std::to_string(p.port);
    return out;
}

} // namespace

std::vector<PublishedContainer> bench_containers(const IpAddr &under_test, const std::vector<ServicePort> &ports,
                                                 std::uint32_t fillers, const std::string &subnet_prefix)
{
    std::vector<PublishedContainer> out;
    for (std::uint32_t i = 0; i < fillers; ++i) {
        const IpAddr addr = IpAddr::parse(subnet_prefix + "." + std::to_string(1 + i / 250) + "." + std::to_string(1 + i % 250));
        out.push_back({"filler" + std::to_string(i), addr, {{6, static_cast<std::uint16_t>(20000 + i)}}});
    }
    out.push_back({"bench", under_test, ports});
    return out;
}

std::string portmap_nat_rules(const std::vector<PublishedContainer> &containers, const std::string &subnet)
{
    std::ostringstream r;
    r << "*nat\n:CNI-HOSTPORT-DNAT - [0:0]\n:CNI-HOSTPORT-SETMARK - [0:0]\n:CNI-HOSTPORT-MASQ - [0:0]\n";
    for (const PublishedContainer &c : containers)
        r << ":CNI-DN-" << c.id << " - [0:0]\n";
    r << "-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT\n"
         "-A OUTPUT -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT\n"
         "-A POSTROUTING -j CNI-HOSTPORT-MASQ\n"
         "-A CNI-HOSTPORT-SETMARK -j MARK --set-xmark 0x2000/0x2000\n"
         "-A CNI-HOSTPORT-MASQ -m mark --mark 0x2000/0x2000 -j MASQUERADE\n";
    for (const PublishedContainer &c : containers) {
        for (std::uint8_t proto : {std::uint8_t{6}, std::uint8_t{17}}) {
            const std::string ports = port_list(c, proto);
            if (ports.empty())
                continue;
            r << "-A CNI-HOSTPORT-DNAT -p " << protocol_name(proto) << " -m comment --comment \"dnat name: bench id: " << c.id
              << "\" -m multiport --dports " << ports << " -j CNI-DN-" << c.id << "\n";
        }
        for (const ServicePort &p : c.ports) {
            const std::string match = "-p " + protocol_name(p.proto) + " --dport " + std::to_string(p.port);
            r << "-A CNI-DN-" << c.id << " -s " << subnet << " " << match << " -j CNI-HOSTPORT-SETMARK\n"
              << "-A CNI-DN-" << c.id << " -s 127.0.0.1/32 " << match << " -j CNI-HOSTPORT-SETMARK\n"
              << "-A CNI-DN-" << c.id << " " << match << " -j DNAT --to-destination " << c.addr.str() << ":" << p.port
              << "\n";
        }
    }
    r << "COMMIT\n";
    return r.str();
}

std::string mangle_mark_rules(const std::vector<PublishedContainer> &containers)
{
    std::ostringstream r;
    r << "*mangle\n";
    for (const PublishedContainer &c : containers) {
        const std::uint32_t mark = c.id == "bench" ? kBenchMark : kFillerMark;
        for (const ServicePort &p : c.ports)
            r << "-A PREROUTING -s " << c.addr.str() << "/32 -p " << protocol_name(p.proto) << " --sport " << p.port
              << " -j MARK --set-xmark 0x" << std::hex << mark << "/0x" << kBenchMarkMask << std::dec << "\n";
    }
    r << "COMMIT\n";
    return r.str();
}

std::uint32_t load_flatpath_entries(const PinRoot &root, MapSet &maps, const IpAddr &host,
                                    const std::vector<PublishedContainer> &containers)
{
    std::vector<DnatRule> dnat;
    std::vector<MarkRule> marks;
    for (const PublishedContainer &c : containers) {
        const std::uint32_t mark = c.id == "bench" ? kBenchMark : kFillerMark;
        for (const ServicePort &p : c.ports) {
            dnat.push_back(DnatRule{host, p.proto, {p.port, p.port}, c.addr, {p.port, p.port}});
            marks.push_back(MarkRule{c.addr, p.proto, p.port, FP_MARK_SOURCE, {mark, kBenchMarkMask}});
        }
    }
    DnatTable(root, maps).add_all(dnat);
    MarkRules(root, maps).add_all(marks);
    return static_cast<std::uint32_t>(dnat.size());
}

} // namespace fp::bench

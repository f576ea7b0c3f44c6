#include "port_spec.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "error.hpp"

namespace fp {

namespace {

std::uint32_t parse_number(std::string_view text, int base, std::uint64_t max, const std::string &what)
{
    std::uint64_t v = 0;
    const auto *end = text.data() + text.size();
    const auto [p, ec] = std::from_chars(text.data(), end, v, base);
    if (text.empty() || ec != std::errc() || p != end || v > max)
        throw Error("'" + std::string(text) + "' is not " + what);
    return static_cast<std::uint32_t>(v);
}

std::uint16_t parse_port(std::string_view text)
{
    const std::uint32_t v = parse_number(text, 10, 65535, "a port (1-65535)");
    if (v == 0)
        throw Error("port 0 cannot be published (ports are 1-65535)");
    return static_cast<std::uint16_t>(v);
}

} // namespace

std::string PortRange::str() const
{
    return single() ? std::to_string(first) : std::to_string(first) + "-" + std::to_string(last);
}

std::uint8_t parse_protocol(std::string_view text)
{
    if (text == "tcp")
        return 6;
    if (text == "udp")
        return 17;
    throw Error("unknown protocol '" + std::string(text) + "' (tcp or udp)");
}

std::string protocol_name(std::uint8_t proto)
{
    return proto == 6 ? "tcp" : proto == 17 ? "udp" : proto == 1 ? "icmp" : proto == 58 ? "icmpv6" : std::to_string(proto);
}

PortRange parse_ports(std::string_view text)
{
    const auto dash = text.find('-');
    if (dash == std::string_view::npos) {
        const std::uint16_t p = parse_port(text);
        return {p, p};
    }
    const PortRange r{parse_port(text.substr(0, dash)), parse_port(text.substr(dash + 1))};
    if (r.first > r.last)
        throw Error("port range " + std::string(text) + " is reversed (write " + std::to_string(r.last) + "-" +
                    std::to_string(r.first) + ")");
    return r;
}

Backend parse_backend(std::string_view text)
{
    Backend b;
    std::string_view addr = text;
    std::string_view ports;
    if (!text.empty() && text.front() == '[') { // [v6]:port
        const auto close = text.find(']');
        if (close == std::string_view::npos)
            throw Error("'" + std::string(text) + "' is missing its ']'");
        addr = text.substr(1, close - 1);
        const std::string_view rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':')
                throw Error("'" + std::string(text) + "': expected ':PORT' after ']'");
            ports = rest.substr(1);
        }
    } else if (std::count(text.begin(), text.end(), ':') == 1) { // v4:port
        const auto colon = text.find(':');
        addr = text.substr(0, colon);
        ports = text.substr(colon + 1);
    } else if (text.find(':') != std::string_view::npos) {
        // fd00::5:80 is an address too: a bare IPv6 backend could be misread either way.
        throw Error("'" + std::string(text) + "': write an IPv6 backend in brackets, [ADDR]:PORT (or [ADDR] for the "
                    "same port)");
    }
    b.addr = IpAddr::parse(addr);
    if (!ports.empty())
        b.ports = parse_ports(ports);
    return b;
}

std::string mark_hex(std::uint32_t v)
{
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%x", v);
    return buf;
}

MarkValue parse_mark(std::string_view text)
{
    MarkValue m;
    const auto slash = text.find('/');
    const auto number = [](std::string_view t) {
        const bool hex = t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X');
        return parse_number(hex ? t.substr(2) : t, hex ? 16 : 10, 0xffffffff, "a 32-bit mark");
    };
    m.value = number(text.substr(0, slash));
    if (slash != std::string_view::npos)
        m.mask = number(text.substr(slash + 1));
    if (m.mask == 0)
        throw Error("mark " + std::string(text) + " has an empty mask");
    if (m.value & ~m.mask)
        throw Error("mark " + std::string(text) + " sets bits outside its mask");
    return m;
}

PortRange backend_ports(const PortRange &published, const Backend &backend)
{
    if (!backend.ports)
        return published;
    if (backend.ports->size() != published.size())
        throw Error("published ports " + published.str() + " and backend ports " + backend.ports->str() +
                    " differ in length");
    return *backend.ports;
}

LabelPort parse_port_proto(std::string_view text)
{
    const std::size_t slash = text.find('/');
    LabelPort p;
    p.ports = parse_ports(text.substr(0, slash));
    if (slash != std::string_view::npos)
        p.proto = parse_protocol(text.substr(slash + 1));
    return p;
}

std::vector<LabelPort> parse_label_ports(std::string_view text)
{
    std::vector<LabelPort> out;
    while (true) {
        const std::size_t comma = text.find(',');
        const std::string_view item = text.substr(0, comma);
        const auto refuse = [&](const std::string &why) {
            return Error("port list item '" + std::string(item) + "': " + why);
        };
        if (item.empty())
            throw refuse("empty (write PORT, PORT/tcp or PORT/udp, separated by commas)");
        LabelPort p;
        try {
            p = parse_port_proto(item);
        } catch (const Error &e) {
            throw refuse(e.what());
        }
        if (std::find(out.begin(), out.end(), p) != out.end())
            throw refuse("listed twice");
        out.push_back(p);
        if (comma == std::string_view::npos)
            return out;
        text.remove_prefix(comma + 1);
    }
}

} // namespace fp


// What `flatpath dnat` and `flatpath mark` accept as protocols, ports, backends and marks,
// and what the daemon accepts in a container's port-list label.
#include <gtest/gtest.h>

#include "error.hpp"
#include "port_spec.hpp"

namespace fp {
namespace {

void expect_error(const std::function<void()> &f, const std::string &part)
{
    try {
        f();
        ADD_FAILURE() << "accepted; wanted an error with '" << part << "'";
    } catch (const Error &e) {
        EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
}

TEST(PortSpec, Protocols)
{
    EXPECT_EQ(parse_protocol("tcp"), 6);
    EXPECT_EQ(parse_protocol("udp"), 17);
    expect_error([] { parse_protocol("sctp"); }, "unknown protocol 'sctp' (tcp or udp)");
    expect_error([] { parse_protocol("TCP"); }, "unknown protocol");
}

TEST(PortSpec, PortsAndRanges)
{
    EXPECT_EQ(parse_ports("80").first, 80);
    EXPECT_TRUE(parse_ports("80").single());
    const PortRange r = parse_ports("8000-8100");
    EXPECT_EQ(r.first, 8000);
    EXPECT_EQ(r.last, 8100);
    EXPECT_EQ(r.size(), 101u);
    EXPECT_EQ(r.str(), "8000-8100");
    EXPECT_EQ(parse_ports("1-65535").size(), 65535u);
    expect_error([] { parse_ports("0"); }, "port 0 cannot be published");
    expect_error([] { parse_ports("65536"); }, "'65536' is not a port (1-65535)");
    expect_error([] { parse_ports("8100-8000"); }, "port range 8100-8000 is reversed (write 8000-8100)");
    expect_error([] { parse_ports("80a"); }, "'80a' is not a port");
    expect_error([] { parse_ports(""); }, "is not a port");
    expect_error([] { parse_ports("-80"); }, "is not a port");
    expect_error([] { parse_ports("0-10"); }, "port 0");
}

TEST(PortSpec, Backends)
{
    Backend b = parse_backend("10.88.0.5:80");
    EXPECT_EQ(b.addr.str(), "10.88.0.5");
    EXPECT_EQ(b.ports->first, 80);
    b = parse_backend("10.88.0.5");
    EXPECT_FALSE(b.ports);
    b = parse_backend("[fd00::5]:8000-8010");
    EXPECT_EQ(b.addr.str(), "fd00::5");
    EXPECT_EQ(b.ports->last, 8010);
    b = parse_backend("[fd00::5]");
    EXPECT_EQ(b.addr.str(), "fd00::5");
    EXPECT_FALSE(b.ports);
    // fd91::11:5001 is an address in its own right: never read as fd91::11 port 5001.
    expect_error([] { parse_backend("fd91::11:5001"); }, "write an IPv6 backend in brackets");
    expect_error([] { parse_backend("fd00::5"); }, "write an IPv6 backend in brackets");
    expect_error([] { parse_backend("10.88.0.5:0"); }, "port 0");
    expect_error([] { parse_backend("10.88.0.300:80"); }, "'10.88.0.300' is not an IPv4 or IPv6 address");
    expect_error([] { parse_backend("[fd00::5:80"); }, "missing its ']'");
    expect_error([] { parse_backend("[fd00::5]80"); }, "expected ':PORT'");
}

TEST(PortSpec, BackendRangeMustMatchTheLength)
{
    const PortRange pub = parse_ports("8000-8010");
    EXPECT_EQ(backend_ports(pub, parse_backend("10.0.0.1")).first, 8000);
    EXPECT_EQ(backend_ports(pub, parse_backend("10.0.0.1:9000-9010")).first, 9000);
    expect_error([&] { backend_ports(pub, parse_backend("10.0.0.1:9000-9005")); },
                 "published ports 8000-8010 and backend ports 9000-9005 differ in length");
    expect_error([] { backend_ports(parse_ports("80"), parse_backend("10.0.0.1:80-81")); }, "differ in length");
}

TEST(PortSpec, Marks)
{
    MarkValue m = parse_mark("0x2/0xff");
    EXPECT_EQ(m.value, 2u);
    EXPECT_EQ(m.mask, 0xffu);
    m = parse_mark("7");
    EXPECT_EQ(m.value, 7u);
    EXPECT_EQ(m.mask, 0xffffffffu);
    expect_error([] { parse_mark("0x100/0xff"); }, "sets bits outside its mask");
    expect_error([] { parse_mark("0x1/0"); }, "empty mask");
    expect_error([] { parse_mark("0x1ffffffff"); }, "is not a 32-bit mark");
    expect_error([] { parse_mark("two"); }, "is not a 32-bit mark");
}

// network.dnat.ports: tcp unless a protocol is given, ranges allowed, order kept; every
// bad item named.
TEST(PortSpec, LabelPortLists)
{
    const std::vector<LabelPort> want = {{{80, 80}, 6}, {{443, 443}, 6}, {{53, 53}, 17}, {{8000, 8100}, 17}};
    EXPECT_EQ(parse_label_ports("80,443/tcp,53/udp,8000-8100/udp"), want);
    EXPECT_EQ(parse_label_ports("53/udp,53/tcp").size(), 2u);
    expect_error([] { parse_label_ports(""); }, "port list item '': empty");
    expect_error([] { parse_label_ports("80,,443"); }, "port list item '': empty");
    expect_error([] { parse_label_ports("80,"); }, "empty");
    expect_error([] { parse_label_ports("80/icmp"); }, "port list item '80/icmp': unknown protocol 'icmp'");
    expect_error([] { parse_label_ports("http"); }, "port list item 'http': 'http' is not a port");
    expect_error([] { parse_label_ports("0/udp"); }, "port 0 cannot be published");
    expect_error([] { parse_label_ports("80,80/tcp"); }, "port list item '80/tcp': listed twice");
    expect_error([] { parse_label_ports(" 80"); }, "is not a port");
}

} // namespace
} // namespace fp

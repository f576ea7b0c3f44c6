#include "metrics_endpoint.hpp"

#include "error.hpp"
#include "ip_addr.hpp"
#include "port_spec.hpp"

namespace fp {

namespace {

// The CivetWeb listening address for a --metrics-listen value; throws for a malformed one.
std::string civetweb_listen_address(const std::string &listen)
{
    const std::size_t colon = listen.rfind(':');
    if (colon == std::string::npos)
        throw Error("--metrics-listen '" + listen + "': want ADDR:PORT, [ADDR6]:PORT or :PORT");
    std::string host = listen.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    try {
        const std::string port = listen.substr(colon + 1);
        const std::uint16_t p = port == "0" ? 0 : parse_ports(port).first;
        const IpAddr addr = IpAddr::parse(host.empty() ? "0.0.0.0" : host);
        // CivetWeb takes an IPv6 address in brackets, an IPv4 one bare.
        return (addr.is_v4() ? addr.str() : "[" + addr.str() + "]") + ":" + std::to_string(p);
    } catch (const Error &e) {
        throw Error("--metrics-listen '" + listen + "': " + e.what());
    }
}

} // namespace

MetricsEndpoint::MetricsEndpoint(const std::string &listen)
{
    const std::string address = civetweb_listen_address(listen);
    try {
        // One serving thread: scrapes are answered one at a time, as the maps are read.
        exposer_ = std::make_unique<prometheus::Exposer>(address, 1);
    } catch (const std::exception &) {
        // CivetWeb logs the reason to stderr itself; its exception says only that it failed.
        throw Error("--metrics-listen " + listen + ": cannot listen on " + address +
                    " (address in use, or not an address of this host)");
    }
}

void MetricsEndpoint::add(std::shared_ptr<prometheus::Collectable> source)
{
    exposer_->RegisterCollectable(source);
    sources_.push_back(std::move(source));
}

std::uint16_t MetricsEndpoint::port() const
{
    const std::vector<int> ports = exposer_->GetListeningPorts();
    return ports.empty() ? 0 : static_cast<std::uint16_t>(ports.front());
}

} // namespace fp

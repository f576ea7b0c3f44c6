#include "runtime_api.hpp"

#include "error.hpp"
#include "http_transport.hpp"
#include "line_splitter.hpp"

namespace fp {

namespace {

HttpRequest get_request(const std::string &socket, const std::string &path)
{
    HttpRequest req;
    req.url = "http://localhost" + path; // the host name is not used on a unix socket
    req.unix_socket = socket;
    req.what = socket + " GET " + path;
    return req;
}

void require_ok(const HttpRequest &req, long status)
{
    if (status != 200)
        throw Error(req.what + ": HTTP " + std::to_string(status));
}

nlohmann::json parse_json(const HttpRequest &req, const std::string &body)
{
    try {
        return nlohmann::json::parse(body);
    } catch (const nlohmann::json::exception &e) {
        throw Error(req.what + ": not JSON: " + e.what());
    }
}

} // namespace

std::string RuntimeApi::get(const std::string &path) const
{
    std::string body;
    require_ok(get_request(socket_, path), get_with_status(path, body));
    return body;
}

long RuntimeApi::get_with_status(const std::string &path, std::string &body) const
{
    return http_perform(get_request(socket_, path), body).status;
}

nlohmann::json RuntimeApi::get_json(const std::string &path) const
{
    return parse_json(get_request(socket_, path), get(path));
}

std::optional<nlohmann::json> RuntimeApi::get_json_unless_missing(const std::string &path) const
{
    std::string body;
    const long status = get_with_status(path, body);
    if (status == 404)
        return std::nullopt;
    const HttpRequest req = get_request(socket_, path);
    require_ok(req, status);
    return parse_json(req, body);
}

RuntimeApi::StreamEnd RuntimeApi::follow(const std::string &path, const std::function<bool(std::string_view)> &on_line,
                                         const FollowOptions &opts) const
{
    LineSplitter lines(opts.max_line, on_line, opts.on_oversized);
    HttpRequest req = get_request(socket_, path);
    req.stop = opts.stop;
    if (opts.stop)
        req.timeout_s = 0; // a stream lasts; *stop ends it
    const HttpOutcome out = http_perform(req, [&](std::string_view chunk) { return lines.feed(chunk); });
    if (!out.stopped)
        require_ok(req, out.status);
    StreamEnd end;
    end.stopped = out.stopped;
    end.oversized = lines.oversized();
    end.truncated = lines.pending();
    return end;
}

} // namespace fp

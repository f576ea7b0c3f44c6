// One HTTP/1.1 exchange through libcurl, over TCP or a unix socket: the one HTTP
// mechanism of the tree. The container runtime's API (a unix socket) and etcd's JSON
// gateway (TCP) are both clients of it; what they say is theirs, how bytes move is here.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace fp {

struct HttpRequest {
    std::string method = "GET";
    std::string url;                  // on a unix socket the host name is not used
    std::string unix_socket;          // empty: the URL's host over TCP
    std::string body;                 // sent as the request body when method is not GET
    std::vector<std::string> headers; // "Name: value"
    long connect_timeout_s = 5;
    long timeout_s = 30;              // the whole exchange; 0 for a stream that lasts
    const std::atomic<bool> *stop = nullptr; // set: abort (noticed within a second)
    std::string what;                 // names the exchange in errors ("etcd http://…/v3/kv/range")
};

struct HttpOutcome {
    long status = 0;      // the HTTP status (0 when none arrived)
    bool stopped = false; // the sink stopped a 200 response, or *stop was set
};

// Performs the request, handing the body to sink chunk by chunk as it arrives; a sink
// that returns false ends the exchange. Throws fp::Error naming req.what for a transport
// error (refused, reset, timed out) but not for an HTTP error status: callers judge those.
HttpOutcome http_perform(const HttpRequest &req, const std::function<bool(std::string_view)> &sink);

// The same, collecting the body.
HttpOutcome http_perform(const HttpRequest &req, std::string &body);

// text percent-encoded for a URL's path or query.
std::string url_escape(std::string_view text);

} // namespace fp

#include "runtime_api.hpp"

#include <curl/curl.h>

#include <memory>

#include "error.hpp"
#include "line_splitter.hpp"

namespace fp {

namespace {

// libcurl's global state, set up once before the first handle (it is not thread-safe to
// do lazily from several threads, so a function-local static does it exactly once).
void curl_global()
{
    static const CURLcode init = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (init != CURLE_OK)
        throw Error(std::string("initialise libcurl: ") + curl_easy_strerror(init));
}

using Handle = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;

template <class Sink>
std::size_t write_to(char *data, std::size_t size, std::size_t n, void *user)
{
    return (*static_cast<Sink *>(user))(std::string_view(data, size * n)) ? size * n : 0;
}

// libcurl calls this about once a second even while no data arrives: a non-zero
// answer aborts the transfer.
int stop_requested(void *stop, curl_off_t, curl_off_t, curl_off_t, curl_off_t)
{
    return static_cast<const std::atomic<bool> *>(stop)->load() ? 1 : 0;
}

struct Outcome {
    bool stopped = false; // the sink or *stop stopped it
    long status = 0;      // the HTTP status
};

// Performs GET path on the socket, handing the body to sink (a callable taking a
// string_view and returning false to stop). Throws for a transport error only.
template <class Sink>
Outcome perform(const std::string &socket, const std::string &path, Sink &sink, const std::atomic<bool> *stop = nullptr)
{
    curl_global();
    Handle h(curl_easy_init(), curl_easy_cleanup);
    if (!h)
        throw Error("create a libcurl handle");
    const std::string url = "http://localhost" + path; // the host name is not used on a unix socket
    curl_easy_setopt(h.get(), CURLOPT_UNIX_SOCKET_PATH, socket.c_str());
    curl_easy_setopt(h.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(h.get(), CURLOPT_WRITEFUNCTION, &write_to<Sink>);
    curl_easy_setopt(h.get(), CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(h.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h.get(), CURLOPT_CONNECTTIMEOUT, 5L);
    if (!stop) // a plain request; a runtime that hangs must not hang the daemon with it
        curl_easy_setopt(h.get(), CURLOPT_TIMEOUT, 30L);
    if (stop) {
        curl_easy_setopt(h.get(), CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(h.get(), CURLOPT_XFERINFOFUNCTION, &stop_requested);
        curl_easy_setopt(h.get(), CURLOPT_XFERINFODATA, stop);
    }
    const CURLcode rc = curl_easy_perform(h.get());
    Outcome out;
    curl_easy_getinfo(h.get(), CURLINFO_RESPONSE_CODE, &out.status);
    out.stopped = (rc == CURLE_WRITE_ERROR && out.status == 200) || rc == CURLE_ABORTED_BY_CALLBACK;
    if (rc != CURLE_OK && !out.stopped)
        throw Error(socket + " GET " + path + ": " + curl_easy_strerror(rc));
    return out;
}

void require_ok(const std::string &socket, const std::string &path, long status)
{
    if (status != 200)
        throw Error(socket + " GET " + path + ": HTTP " + std::to_string(status));
}

nlohmann::json parse_json(const std::string &socket, const std::string &path, const std::string &body)
{
    try {
        return nlohmann::json::parse(body);
    } catch (const nlohmann::json::exception &e) {
        throw Error(socket + " GET " + path + ": not JSON: " + e.what());
    }
}

} // namespace

std::string RuntimeApi::escape(const std::string &text)
{
    curl_global();
    std::unique_ptr<char, decltype(&curl_free)> out(
        curl_easy_escape(nullptr, text.data(), static_cast<int>(text.size())), curl_free);
    if (!out)
        throw Error("percent-encode '" + text + "' for a URL");
    return out.get();
}

std::string RuntimeApi::get(const std::string &path) const
{
    std::string body;
    require_ok(socket_, path, get_with_status(path, body));
    return body;
}

long RuntimeApi::get_with_status(const std::string &path, std::string &body) const
{
    auto sink = [&](std::string_view chunk) {
        body.append(chunk);
        return true;
    };
    return perform(socket_, path, sink).status;
}

nlohmann::json RuntimeApi::get_json(const std::string &path) const
{
    return parse_json(socket_, path, get(path));
}

std::optional<nlohmann::json> RuntimeApi::get_json_unless_missing(const std::string &path) const
{
    std::string body;
    const long status = get_with_status(path, body);
    if (status == 404)
        return std::nullopt;
    require_ok(socket_, path, status);
    return parse_json(socket_, path, body);
}

RuntimeApi::StreamEnd RuntimeApi::follow(const std::string &path, const std::function<bool(std::string_view)> &on_line,
                                         const FollowOptions &opts) const
{
    LineSplitter lines(opts.max_line, on_line, opts.on_oversized);
    auto sink = [&](std::string_view chunk) { return lines.feed(chunk); };
    StreamEnd end;
    const Outcome out = perform(socket_, path, sink, opts.stop);
    if (!out.stopped)
        require_ok(socket_, path, out.status);
    end.stopped = out.stopped;
    end.oversized = lines.oversized();
    end.truncated = lines.pending();
    return end;
}

} // namespace fp

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

// Performs GET path on the socket, handing the body to sink (a callable taking a
// string_view and returning false to stop). Returns true when the sink stopped it.
template <class Sink>
bool perform(const std::string &socket, const std::string &path, Sink &sink)
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
    const CURLcode rc = curl_easy_perform(h.get());
    long status = 0;
    curl_easy_getinfo(h.get(), CURLINFO_RESPONSE_CODE, &status);
    if (rc == CURLE_WRITE_ERROR && status == 200)
        return true; // the sink asked to stop
    const std::string where = socket + " GET " + path;
    if (rc != CURLE_OK)
        throw Error(where + ": " + curl_easy_strerror(rc));
    if (status != 200)
        throw Error(where + ": HTTP " + std::to_string(status));
    return false;
}

} // namespace

std::string RuntimeApi::get(const std::string &path) const
{
    std::string body;
    auto sink = [&](std::string_view chunk) {
        body.append(chunk);
        return true;
    };
    perform(socket_, path, sink);
    return body;
}

nlohmann::json RuntimeApi::get_json(const std::string &path) const
{
    const std::string body = get(path);
    try {
        return nlohmann::json::parse(body);
    } catch (const nlohmann::json::exception &e) {
        throw Error(socket_ + " GET " + path + ": not JSON: " + e.what());
    }
}

RuntimeApi::StreamEnd RuntimeApi::follow(const std::string &path, const std::function<bool(std::string_view)> &on_line,
                                         std::size_t max_line) const
{
    LineSplitter lines(max_line, on_line);
    auto sink = [&](std::string_view chunk) { return lines.feed(chunk); };
    StreamEnd end;
    end.stopped = perform(socket_, path, sink);
    end.oversized = lines.oversized();
    end.truncated = lines.pending();
    return end;
}

} // namespace fp

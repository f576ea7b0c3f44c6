#include "http_transport.hpp"

#include <curl/curl.h>

#include <memory>

#include "error.hpp"

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
using HeaderList = std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)>;
using Sink = std::function<bool(std::string_view)>;

std::size_t write_to(char *data, std::size_t size, std::size_t n, void *user)
{
    return (*static_cast<const Sink *>(user))(std::string_view(data, size * n)) ? size * n : 0;
}

// libcurl calls this about once a second even while no data arrives: a non-zero
// answer aborts the transfer.
int stop_requested(void *stop, curl_off_t, curl_off_t, curl_off_t, curl_off_t)
{
    return static_cast<const std::atomic<bool> *>(stop)->load() ? 1 : 0;
}

} // namespace

HttpOutcome http_perform(const HttpRequest &req, const Sink &sink)
{
    curl_global();
    Handle h(curl_easy_init(), curl_easy_cleanup);
    if (!h)
        throw Error("create a libcurl handle");
    HeaderList headers(nullptr, curl_slist_free_all);
    for (const std::string &line : req.headers) {
        curl_slist *more = curl_slist_append(headers.get(), line.c_str());
        if (!more)
            throw Error(req.what + ": out of memory for a header");
        headers.release();
        headers.reset(more);
    }
    if (!req.unix_socket.empty())
        curl_easy_setopt(h.get(), CURLOPT_UNIX_SOCKET_PATH, req.unix_socket.c_str());
    curl_easy_setopt(h.get(), CURLOPT_URL, req.url.c_str());
    if (req.method != "GET") {
        curl_easy_setopt(h.get(), CURLOPT_CUSTOMREQUEST, req.method.c_str());
        curl_easy_setopt(h.get(), CURLOPT_POSTFIELDS, req.body.c_str());
        curl_easy_setopt(h.get(), CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    }
    if (headers)
        curl_easy_setopt(h.get(), CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(h.get(), CURLOPT_WRITEFUNCTION, &write_to);
    curl_easy_setopt(h.get(), CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(h.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h.get(), CURLOPT_CONNECTTIMEOUT, req.connect_timeout_s);
    curl_easy_setopt(h.get(), CURLOPT_TIMEOUT, req.timeout_s);
    if (req.stop) {
        curl_easy_setopt(h.get(), CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(h.get(), CURLOPT_XFERINFOFUNCTION, &stop_requested);
        curl_easy_setopt(h.get(), CURLOPT_XFERINFODATA, req.stop);
    }
    const CURLcode rc = curl_easy_perform(h.get());
    HttpOutcome out;
    curl_easy_getinfo(h.get(), CURLINFO_RESPONSE_CODE, &out.status);
    out.stopped = (rc == CURLE_WRITE_ERROR && out.status == 200) || rc == CURLE_ABORTED_BY_CALLBACK;
    if (rc != CURLE_OK && !out.stopped)
        throw Error(req.what + ": " + curl_easy_strerror(rc));
    return out;
}

HttpOutcome http_perform(const HttpRequest &req, std::string &body)
{
    return http_perform(req, [&](std::string_view chunk) {
        body.append(chunk);
        return true;
    });
}

std::string url_escape(std::string_view text)
{
    curl_global();
    std::unique_ptr<char, decltype(&curl_free)> out(
        curl_easy_escape(nullptr, text.data(), static_cast<int>(text.size())), curl_free);
    if (!out)
        throw Error("percent-encode '" + std::string(text) + "' for a URL");
    return out.get();
}

} // namespace fp

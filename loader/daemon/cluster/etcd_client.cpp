#include "etcd_client.hpp"

#include <charconv>

#include "base64.hpp"
#include "error.hpp"
#include "http_transport.hpp"
#include "line_splitter.hpp"

namespace fp {

namespace {

using nlohmann::json;

// The gateway writes 64-bit numbers as strings and leaves out fields at their zero value.
std::int64_t int_field(const json &j, const char *name)
{
    const auto it = j.find(name);
    if (it == j.end() || it->is_null())
        return 0;
    if (it->is_number_integer())
        return it->get<std::int64_t>();
    if (it->is_string()) {
        const std::string &text = it->get_ref<const std::string &>();
        std::int64_t v = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec == std::errc() && end == text.data() + text.size())
            return v;
    }
    throw Error(std::string("etcd answer: '") + name + "' is not a number");
}

std::string bytes_field(const json &j, const char *name)
{
    const auto it = j.find(name);
    if (it == j.end() || it->is_null())
        return {};
    const auto bytes = it->is_string() ? base64_decode(it->get<std::string>()) : std::nullopt;
    if (!bytes)
        throw Error(std::string("etcd answer: '") + name + "' is not base64");
    return *bytes;
}

EtcdKeyValue key_value(const json &j)
{
    EtcdKeyValue kv;
    kv.key = bytes_field(j, "key");
    kv.value = bytes_field(j, "value");
    kv.create_revision = int_field(j, "create_revision");
    kv.mod_revision = int_field(j, "mod_revision");
    kv.lease = int_field(j, "lease");
    return kv;
}

std::int64_t header_revision(const json &answer)
{
    const auto it = answer.find("header");
    return it == answer.end() ? 0 : int_field(*it, "revision");
}

// etcd's refusal, from an error answer ({"error", "message", "code"}).
std::string error_message(const std::string &body, long status)
{
    try {
        const json j = json::parse(body);
        if (j.contains("message") && j["message"].is_string())
            return j["message"].get<std::string>();
        if (j.contains("error") && j["error"].is_object() && j["error"].contains("message"))
            return j["error"]["message"].get<std::string>();
    } catch (const json::exception &) {
    }
    return "HTTP " + std::to_string(status);
}

} // namespace

EtcdClient::EtcdClient(std::vector<std::string> endpoints, long request_timeout_s)
    : endpoints_(std::move(endpoints)), timeout_s_(request_timeout_s)
{
    if (endpoints_.empty())
        throw Error("etcd: no endpoint given");
    for (std::string &url : endpoints_) {
        while (!url.empty() && url.back() == '/')
            url.pop_back();
        if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
            throw Error("etcd endpoint '" + url + "': not an http:// or https:// URL");
    }
}

std::string EtcdClient::current_endpoint() const
{
    return endpoints_[current_.load() % endpoints_.size()];
}

std::string EtcdClient::prefix_end(const std::string &prefix)
{
    std::string end = prefix;
    while (!end.empty()) {
        if (static_cast<unsigned char>(end.back()) < 0xff) {
            end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
            return end;
        }
        end.pop_back();
    }
    return std::string(1, '\0'); // every key: etcd's "\0" range end
}

HttpRequest EtcdClient::request(const std::string &endpoint, const std::string &path, const json &body) const
{
    HttpRequest req;
    req.method = "POST";
    req.url = endpoint + path;
    req.body = body.dump();
    req.headers = {"Content-Type: application/json"};
    req.connect_timeout_s = std::min(timeout_s_, 2L);
    req.timeout_s = timeout_s_;
    req.what = "etcd " + req.url;
    return req;
}

json EtcdClient::post(const std::string &path, const json &body) const
{
    std::string failures;
    const std::size_t first = current_.load();
    for (std::size_t i = 0; i < endpoints_.size(); ++i) {
        const std::size_t at = (first + i) % endpoints_.size();
        const HttpRequest req = request(endpoints_[at], path, body);
        std::string answer;
        HttpOutcome out;
        try {
            out = http_perform(req, answer);
        } catch (const Error &e) {
            failures += (failures.empty() ? "" : "; ") + std::string(e.what());
            continue;
        }
        current_.store(at);
        if (out.status != 200)
            throw Error(req.what + ": " + error_message(answer, out.status));
        try {
            return json::parse(answer);
        } catch (const json::exception &e) {
            throw Error(req.what + ": not JSON: " + e.what());
        }
    }
    throw Error(failures);
}

std::optional<EtcdKeyValue> EtcdClient::get(const std::string &key) const
{
    const json answer = post("/v3/kv/range", {{"key", base64_encode(key)}});
    if (!answer.contains("kvs") || answer["kvs"].empty())
        return std::nullopt;
    return key_value(answer["kvs"][0]);
}

EtcdRange EtcdClient::get_prefix(const std::string &prefix) const
{
    const json answer = post("/v3/kv/range", {{"key", base64_encode(prefix)}, {"range_end", base64_encode(prefix_end(prefix))}});
    EtcdRange range;
    range.revision = header_revision(answer);
    if (answer.contains("kvs"))
        for (const json &kv : answer["kvs"])
            range.kvs.push_back(key_value(kv));
    return range;
}

void EtcdClient::put(const std::string &key, const std::string &value, std::int64_t lease) const
{
    json body = {{"key", base64_encode(key)}, {"value", base64_encode(value)}};
    if (lease)
        body["lease"] = std::to_string(lease);
    post("/v3/kv/put", body);
}

bool EtcdClient::create(const std::string &key, const std::string &value, std::int64_t lease) const
{
    json put = {{"key", base64_encode(key)}, {"value", base64_encode(value)}};
    if (lease)
        put["lease"] = std::to_string(lease);
    const json body = {
        {"compare", json::array({{{"key", base64_encode(key)}, {"target", "CREATE"}, {"result", "EQUAL"}, {"create_revision", "0"}}})},
        {"success", json::array({{{"request_put", put}}})},
    };
    return post("/v3/kv/txn", body).value("succeeded", false);
}

bool EtcdClient::erase(const std::string &key) const
{
    return int_field(post("/v3/kv/deleterange", {{"key", base64_encode(key)}}), "deleted") > 0;
}

std::int64_t EtcdClient::grant(std::int64_t ttl_s) const
{
    const json answer = post("/v3/lease/grant", {{"TTL", std::to_string(ttl_s)}});
    const std::int64_t id = int_field(answer, "ID");
    if (!id)
        throw Error("etcd " + current_endpoint() + ": lease grant: " + answer.value("error", std::string("no lease ID")));
    return id;
}

std::int64_t EtcdClient::keep_alive(std::int64_t lease) const
{
    const json answer = post("/v3/lease/keepalive", {{"ID", std::to_string(lease)}});
    // A streaming call: its one answer is wrapped in "result"; no TTL means no lease.
    const auto result = answer.find("result");
    return result == answer.end() ? 0 : int_field(*result, "TTL");
}

std::optional<std::int64_t> EtcdClient::time_to_live(std::int64_t lease) const
{
    const std::int64_t ttl = int_field(post("/v3/lease/timetolive", {{"ID", std::to_string(lease)}}), "TTL");
    if (ttl < 0)
        return std::nullopt;
    return ttl;
}

void EtcdClient::revoke(std::int64_t lease) const
{
    post("/v3/lease/revoke", {{"ID", std::to_string(lease)}});
}

EtcdWatchEnd EtcdClient::watch_prefix(const std::string &prefix, std::int64_t from,
                                      const std::function<bool(const std::vector<EtcdEvent> &, std::int64_t)> &on_events,
                                      const std::atomic<bool> *stop) const
{
    json create = {{"key", base64_encode(prefix)}, {"range_end", base64_encode(prefix_end(prefix))}};
    if (from)
        create["start_revision"] = std::to_string(from);
    EtcdWatchEnd end;
    end.next_revision = from;
    bool finished = false; // the answer decided the end: stop reading

    auto on_line = [&](std::string_view line) {
        json msg;
        try {
            msg = json::parse(line);
        } catch (const json::exception &e) {
            end = {EtcdWatchEnd::Why::Lost, end.next_revision, std::string("a watch line that is not JSON: ") + e.what()};
            finished = true;
            return false;
        }
        if (!msg.contains("result")) {
            end = {EtcdWatchEnd::Why::Lost, end.next_revision, error_message(std::string(line), 200)};
            finished = true;
            return false;
        }
        const json &result = msg["result"];
        if (result.value("canceled", false)) {
            const std::int64_t compacted = int_field(result, "compact_revision");
            end.why = compacted ? EtcdWatchEnd::Why::Compacted : EtcdWatchEnd::Why::Lost;
            end.detail = compacted ? "revision " + std::to_string(end.next_revision) + " compacted (now " +
                                         std::to_string(compacted) + ")"
                                   : "etcd cancelled the watch: " + result.value("cancel_reason", std::string("no reason given"));
            finished = true;
            return false; // a cancelled watch's stream stays open: close it ourselves
        }
        const std::int64_t revision = header_revision(result);
        std::vector<EtcdEvent> events;
        if (result.contains("events"))
            for (const json &e : result["events"])
                events.push_back({e.value("type", std::string()) == "DELETE", key_value(e["kv"])});
        if (revision)
            end.next_revision = std::max(end.next_revision, revision + 1);
        if (events.empty())
            return true; // "created" or a progress notice
        if (!on_events(events, end.next_revision)) {
            end.why = EtcdWatchEnd::Why::Stopped;
            finished = true;
            return false;
        }
        return true;
    };

    std::string failures;
    const std::size_t first = current_.load();
    for (std::size_t i = 0; i < endpoints_.size(); ++i) {
        const std::size_t at = (first + i) % endpoints_.size();
        LineSplitter lines(std::size_t{16} << 20, on_line);
        HttpRequest req = request(endpoints_[at], "/v3/watch", json{{"create_request", create}});
        req.headers.push_back("Grpc-Metadata-hasleader: true");
        req.timeout_s = 0; // a watch lasts; *stop ends it
        req.stop = stop;
        bool reached = false;
        try {
            const HttpOutcome out = http_perform(req, [&](std::string_view chunk) {
                reached = true;
                return lines.feed(chunk);
            });
            current_.store(at);
            if (finished)
                return end;
            if (out.stopped) {
                end.why = EtcdWatchEnd::Why::Stopped;
                return end;
            }
            end = {EtcdWatchEnd::Why::Lost, end.next_revision,
                   out.status == 200 ? "etcd ended the watch" : req.what + ": HTTP " + std::to_string(out.status)};
            return end;
        } catch (const Error &e) {
            if (reached || finished) { // it was watching: the stream broke (etcd went away)
                current_.store(at + 1);
                return {EtcdWatchEnd::Why::Lost, end.next_revision, e.what()};
            }
            failures += (failures.empty() ? "" : "; ") + std::string(e.what());
        }
    }
    throw Error(failures);
}

} // namespace fp

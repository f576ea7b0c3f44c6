// etcd's v3 API through its JSON gateway (HTTP/1.1 POSTs to /v3/..., keys and values in
// base64, 64-bit numbers as strings): ranges, puts, a create-if-absent transaction,
// leases and their keep-alives, and prefix watches with revisions. Why the gateway and
// not gRPC: docs/cluster.md. The cluster member's window on etcd; nothing here knows
// what the keys mean.
//
// Endpoints are tried in turn: a request that cannot reach one (refused, reset, timed
// out) goes to the next, and the one that answered is kept for the next request. An
// answer with an error status is etcd's own refusal and is not retried elsewhere.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "http_transport.hpp"

namespace fp {

struct EtcdKeyValue {
    std::string key;
    std::string value;
    std::int64_t create_revision = 0;
    std::int64_t mod_revision = 0;
    std::int64_t lease = 0; // 0: none
};

struct EtcdRange {
    std::vector<EtcdKeyValue> kvs;
    std::int64_t revision = 0; // the store's revision the answer reflects
};

struct EtcdEvent {
    bool deleted = false; // else a put
    EtcdKeyValue kv;      // a delete carries only the key and mod_revision
};

struct EtcdWatchEnd {
    enum class Why {
        Stopped,   // the callback returned false or *stop was set
        Compacted, // the start revision is gone: re-list, then watch from the list's revision + 1
        Lost,      // the stream ended or etcd cancelled it (etcd restarted, lost its leader)
    };
    Why why = Why::Lost;
    std::int64_t next_revision = 0; // where a new watch resumes without losing an event
    std::string detail;             // for Lost: what ended it
};

class EtcdClient {
public:
    // endpoints: "http://10.0.0.1:2379", …; request_timeout_s bounds every request but a watch.
    explicit EtcdClient(std::vector<std::string> endpoints, long request_timeout_s = 5);

    const std::vector<std::string> &endpoints() const { return endpoints_; }
    // The endpoint the next request goes to first.
    std::string current_endpoint() const;

    std::optional<EtcdKeyValue> get(const std::string &key) const;
    EtcdRange get_prefix(const std::string &prefix) const;
    void put(const std::string &key, const std::string &value, std::int64_t lease = 0) const;
    // Puts key only if it does not exist (a transaction on its create revision): whether it did.
    bool create(const std::string &key, const std::string &value, std::int64_t lease = 0) const;
    // Deletes key: whether it was there.
    bool erase(const std::string &key) const;

    // A new lease of ttl_s seconds: its ID.
    std::int64_t grant(std::int64_t ttl_s) const;
    // Renews a lease: its TTL now, or 0 when etcd no longer has it. One request per
    // renewal: the gateway answers only the first keep-alive of a streamed request.
    std::int64_t keep_alive(std::int64_t lease) const;
    // Seconds the lease has left; nullopt when it is gone (expired or revoked).
    std::optional<std::int64_t> time_to_live(std::int64_t lease) const;
    void revoke(std::int64_t lease) const;

    // Watches every key under prefix from revision from (0: from now), handing each batch
    // of events and the revision after it to on_events until it returns false, *stop is
    // set, or the watch ends. Asks for a leader (a member cut off from its quorum ends
    // the watch rather than keeping it open and silent). Throws when no endpoint takes it.
    EtcdWatchEnd watch_prefix(const std::string &prefix, std::int64_t from,
                              const std::function<bool(const std::vector<EtcdEvent> &, std::int64_t)> &on_events,
                              const std::atomic<bool> *stop) const;

    // The key just past every key that starts with prefix (etcd's range_end for a prefix).
    static std::string prefix_end(const std::string &prefix);

private:
    // A POST of body to endpoint + path, bounded by the request timeout.
    HttpRequest request(const std::string &endpoint, const std::string &path, const nlohmann::json &body) const;
    // POSTs body to path, trying the endpoints in turn: the JSON answer. Throws fp::Error
    // with the endpoint, the path and etcd's message.
    nlohmann::json post(const std::string &path, const nlohmann::json &body) const;

    std::vector<std::string> endpoints_;
    long timeout_s_;
    mutable std::atomic<std::size_t> current_{0};
};

} // namespace fp

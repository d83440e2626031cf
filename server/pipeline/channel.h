#pragma once
// What the pipeline needs from a client connection. The network layer implements it; tests
// implement it with a recorder. All calls happen on the thread that owns the pipeline.

#include <cstdint>
#include <string>
#include <vector>

#include "protocol/records.h"

namespace zk {

// One answered request, for the connection's own figures (ZooKeeper's `cons`: lop, lcxid,
// lzxid and the latencies).
struct AnsweredRequest {
  std::int32_t xid = 0;
  std::int32_t op = 0;
  std::int32_t err = 0;
  std::int64_t zxid = 0;  // the last txn the tree had applied when it was answered
  std::int64_t latencyMs = 0;
  std::int64_t answeredAtMs = 0;  // the pipeline's clock when it answered
};

class ClientChannel {
 public:
  virtual ~ClientChannel() = default;
  // A complete frame, length prefix included. Frames go out in the order they are sent.
  virtual void send(std::string frame) = 0;
  // Flushes what is queued, then closes. The reason goes to the log.
  virtual void close(std::string_view reason) = 0;
  virtual void sessionEstablished(std::int64_t sessionId, std::int32_t timeoutMs) = 0;
  virtual std::string remoteAddress() const = 0;  // "ip" without port, for ip ACLs
  // Ids the transport itself proved: x509 (and super) from a TLS client certificate.
  virtual std::vector<Id> transportAuthIds() const { return {}; }
  // One request of this channel was answered (replies leave in request order), so the
  // network layer can bound what a client has in flight. A new session's connect request is
  // reported too, as op createSession.
  virtual void requestCompleted(const AnsweredRequest& answered) { (void)answered; }
};

// The ids a session starts with on `channel`: its ip, and what the transport proved.
inline std::vector<Id> connectionAuthIds(const ClientChannel& channel) {
  std::vector<Id> ids{Id{"ip", channel.remoteAddress()}};
  for (Id& id : channel.transportAuthIds()) ids.push_back(std::move(id));
  return ids;
}

}  // namespace zk

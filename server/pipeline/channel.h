#pragma once
// What the pipeline needs from a client connection. The network layer implements it; tests
// implement it with a recorder. All calls happen on the thread that owns the pipeline.

#include <cstdint>
#include <string>

namespace zk {

class ClientChannel {
 public:
  virtual ~ClientChannel() = default;
  // A complete frame, length prefix included. Frames go out in the order they are sent.
  virtual void send(std::string frame) = 0;
  // Flushes what is queued, then closes. The reason goes to the log.
  virtual void close(std::string_view reason) = 0;
  virtual void sessionEstablished(std::int64_t sessionId, std::int32_t timeoutMs) = 0;
  virtual std::string remoteAddress() const = 0;  // "ip" without port, for ip ACLs
  // One request of this channel was answered (replies leave in request order), so the
  // network layer can bound what a client has in flight.
  virtual void requestCompleted() {}
};

}  // namespace zk

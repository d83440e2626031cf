#pragma once
// A client connection's own figures, as ZooKeeper's ServerCnxn keeps them for `cons` and the
// AdminServer's `connections`: the last answered request and the latencies since the last reset.

#include <cstdint>
#include <limits>
#include <string_view>

#include "net/introspection.h"
#include "pipeline/channel.h"
#include "protocol/errors.h"
#include "protocol/opcodes.h"

namespace zk {

// A new connection starts as ZooKeeper's does, with its fields unset (Java's zeros): so its
// minimum latency stays 0 until `crst` resets it to "none yet", exactly as ZooKeeper prints it.
class ResponseFigures {
 public:
  // What `crst` does (ServerCnxn.resetStats).
  void reset() {
    *this = ResponseFigures{};
    lastCxid_ = -1;
    lastZxid_ = -1;
    minLatencyMs_ = std::numeric_limits<std::int64_t>::max();
  }

  void record(const AnsweredRequest& answered) {
    // A ping's or an auth's special xid does not replace the last real request's.
    if (answered.xid >= 0) lastCxid_ = answered.xid;
    lastZxid_ = answered.zxid;
    lastOp_ = lastOperationName(answered.op, answered.err != static_cast<std::int32_t>(Err::kOk));
    lastResponseMs_ = answered.answeredAtMs;
    lastLatencyMs_ = answered.latencyMs;
    if (answered.latencyMs < minLatencyMs_) minLatencyMs_ = answered.latencyMs;
    if (answered.latencyMs > maxLatencyMs_) maxLatencyMs_ = answered.latencyMs;
    totalLatencyMs_ += answered.latencyMs;
    ++count_;
  }

  void describe(ConnectionStats& out) const {
    out.lastCxid = lastCxid_;
    out.lastZxid = lastZxid_;
    out.lastOp = std::string(lastOp_);
    out.lastResponseMs = lastResponseMs_;
    out.lastLatencyMs = lastLatencyMs_;
    out.minLatencyMs =
        minLatencyMs_ == std::numeric_limits<std::int64_t>::max() ? 0 : minLatencyMs_;
    out.maxLatencyMs = maxLatencyMs_;
    out.avgLatencyMs = count_ == 0 ? 0 : totalLatencyMs_ / count_;
  }

 private:
  std::int64_t lastCxid_ = 0;  // -1 after a reset: none since (cons leaves it out)
  std::int64_t lastZxid_ = 0;
  std::string_view lastOp_ = "NA";
  // The pipeline's wall clock, read once per answer for the latency as well (ZooKeeper prints
  // its monotonic clock here: either only compares with the same server's other figures).
  std::int64_t lastResponseMs_ = 0;
  std::int64_t lastLatencyMs_ = 0;
  std::int64_t minLatencyMs_ = 0;
  std::int64_t maxLatencyMs_ = 0;
  std::int64_t totalLatencyMs_ = 0;
  std::int64_t count_ = 0;
};

}  // namespace zk

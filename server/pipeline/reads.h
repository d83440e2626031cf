#pragma once
// Read requests run against the applied tree only (never pending changes), so a read never
// shows a write before it is durable (ZooKeeper's FinalRequestProcessor for reads).

#include <cstdint>
#include <exception>
#include <span>

#include "jute/reader.h"
#include "jute/writer.h"
#include "protocol/records.h"
#include "tree/data_tree.h"
#include "watches/watch_manager.h"

namespace zk {

struct ReadContext {
  std::int64_t sessionId = 0;
  std::span<const Id> authIds;
  const DataTree& tree;
  WatchManager& watches;
};

bool isReadOp(std::int32_t op);

// Decodes and executes one read, appending the response record to `out`.
// Throws KeeperError for protocol errors and jute::DecodeError for malformed requests.
void executeRead(std::int32_t op, jute::Reader& in, ReadContext& ctx, jute::Writer& out);

// multiRead: per-op results, errors inline, as ZooKeeper encodes them.
void executeMultiRead(jute::Reader& in, ReadContext& ctx, jute::Writer& out);

// A multiRead of write ops fails as in ZooKeeper: MARSHALLINGERROR, its body an empty result
// list (the terminator alone).
struct PartialReadReply : std::exception {
  std::string body;
  explicit PartialReadReply(std::string b) : body(std::move(b)) {}
  const char* what() const noexcept override { return "multiRead holds a write op"; }
};

// Re-arms a reconnecting client's watches, firing at once those whose node changed since
// the zxid the client last saw (ZooKeeper's DataTree.setWatches).
std::vector<WatcherEvent> rearmWatches(const SetWatchesRequest& req, ReadContext& ctx);

}  // namespace zk

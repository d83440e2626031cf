#pragma once
// Turns a write request into the transaction that will be logged and applied: validates
// the path, checks ACLs and versions against the pending view, and records the change so
// the next write sees it (ZooKeeper's PrepRequestProcessor).

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "jute/reader.h"
#include "pipeline/change_overlay.h"
#include "pipeline/quota_guard.h"
#include "protocol/errors.h"
#include "protocol/records.h"
#include "protocol/txn.h"

namespace zk {

// The leader's answer to a reconfig: the new configuration's text for /zookeeper/config
// (its version being `zxid`), or a KeeperError (RECONFIGINPROGRESS, BADVERSION, ...).
using ReconfigPlanner = std::function<std::string(const ReconfigRequest&, std::int64_t zxid)>;

struct PrepContext {
  std::int64_t sessionId = 0;
  std::span<const Id> authIds;
  std::int64_t zxid = 0;
  std::int64_t nowMs = 0;
  bool extendedTypesEnabled = false;
  bool reconfigEnabled = false;                   // reconfigEnabled in zoo.cfg
  const ReconfigPlanner* planReconfig = nullptr;  // set only on an ensemble's leader
  QuotaGuard* quotas = nullptr;                   // set when quotas are enforced
};

struct PreparedOp {
  std::int32_t type = 0;
  SubTxnBody body;
};

// Thrown when one op of a multi fails: standalone answers the whole multi without a txn, a
// leader logs it as a multi of error txns so the learner hears which op failed. what() names
// the op, the code and the path ("multi op 2 failed: NONODE (-101) for /a").
class MultiFailure : public std::exception {
 public:
  MultiFailure(std::size_t opCount, std::size_t failedIndex, const KeeperError& cause);
  const char* what() const noexcept override { return message_.c_str(); }

  std::size_t opCount;  // grows as the ops after the failed one are counted
  std::size_t failedIndex;
  Err err;

 private:
  std::string message_;
};

bool isWriteOp(std::int32_t op);

// Decodes one op of type `op` from `in` and prepares it against `view`; throws KeeperError
// (protocol failure) or jute::DecodeError (malformed request).
PreparedOp prepareOp(std::int32_t op, jute::Reader& in, const PrepContext& ctx, ScratchView& view);
// The write ops a multi may hold; skipMultiOp decodes one without preparing it (ops after a
// failed one are decoded only so the reply can report each of them).
bool allowedInMulti(std::int32_t type);
void skipMultiOp(std::int32_t type, jute::Reader& in);

// The same for one op of a multi. As ZooKeeper, a create is typed there by its mode, not by its
// op code: create (also for create2), createContainer or createTTL.
PreparedOp prepareMultiOp(std::int32_t op, jute::Reader& in, const PrepContext& ctx,
                          ScratchView& view);

// Paths a session's close removes: its ephemerals, including ones still pending.
std::vector<std::string> ephemeralsToClose(std::int64_t sessionId, const DataTree& tree,
                                           const ChangeOverlay& overlay);
void recordSessionClose(const std::vector<std::string>& paths, std::int64_t zxid,
                        ScratchView& view);

}  // namespace zk

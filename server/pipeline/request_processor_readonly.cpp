// The read-only role: what a member cut off from its quorum still offers when
// readonlymode.enabled is set (ZooKeeper's ReadOnlyZooKeeperServer). Nothing here is logged:
// sessions live only on this member and end with the read-only period.

#include "pipeline/prep.h"
#include "pipeline/replies.h"
#include "pipeline/request_processor.h"
#include "protocol/errors.h"
#include "protocol/opcodes.h"
#include "util/log.h"

namespace zk {
namespace {

constexpr auto op(OpCode code) {
  return static_cast<std::int32_t>(code);
}

}  // namespace

void RequestProcessor::readOnlyConnect(const std::shared_ptr<ClientChannel>& channel,
                                       const ConnectRequest& request, std::int32_t timeout) {
  if (!request.readOnly) {
    channel->close(
        "refusing a session that does not allow read-only mode: this member has no "
        "quorum");
    return;
  }
  std::int64_t id = request.sessionId;
  if (id != 0 && request.passwd != SessionTracker::passwordFor(id)) {
    ConnectResponse refused;
    refused.passwd = std::string(16, '\0');
    refused.withReadOnlyByte = request.hasReadOnlyByte;
    channel->send(connectFrame(refused));
    channel->close("session " + hex(id) + ": wrong password");
    return;
  }
  // A known session (its password proves it) continues here for reading; a new one is local.
  if (id == 0) id = sessions_.nextSessionId();
  if (sessions_.contains(id)) {
    timeout = sessions_.timeoutOf(id);
    sessions_.touch(id, clock_());
  } else {
    sessions_.add(id, timeout, clock_());
  }
  Client& client = clients_[id];
  if (auto old = client.channel.lock(); old && old != channel) old->close("session moved");
  client.channel = channel;
  client.authIds = connectionAuthIds(*channel);
  channel->sessionEstablished(id, timeout);
  ConnectResponse ok{
      0, timeout, id, SessionTracker::passwordFor(id), true, request.hasReadOnlyByte};
  channel->send(connectFrame(ok));
  ++stats_.packetsSent;
}

// Writes and syncs fail with NOTREADONLY; closing a session ends it here and now.
bool RequestProcessor::refusedAsReadOnly(const std::shared_ptr<ClientChannel>& channel,
                                         std::int64_t sessionId, Client& client, Pending& pending) {
  if (pending.op == op(OpCode::kCloseSession)) {
    channel->send(replyFrame(pending.xid, tree_.lastProcessedZxid(), Err::kOk));
    --outstanding_;
    closeSessionNow(sessionId, "session closed by client");
    return true;
  }
  if (!isWriteOp(pending.op) && pending.op != op(OpCode::kSync)) return false;
  pending.frame = replyFrame(pending.xid, 0, Err::kNotReadOnly);
  addBarrier(sessionId, client, std::move(pending), {});
  return true;
}

void RequestProcessor::expireReadOnlySessions(std::int64_t now) {
  for (std::int64_t id : sessions_.takeExpired(now)) closeSessionNow(id, "session expired");
}

}  // namespace zk

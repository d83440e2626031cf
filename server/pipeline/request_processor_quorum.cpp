// The parts of the pipeline that exist only in an ensemble: a leader preparing writes that
// learners forwarded, and a learner forwarding writes and applying what the leader commits.

#include "jute/reader.h"
#include "jute/writer.h"
#include "pipeline/prep.h"
#include "pipeline/replies.h"
#include "pipeline/request_processor.h"
#include "protocol/errors.h"
#include "protocol/opcodes.h"

namespace zk {
namespace {

constexpr auto op(OpCode code) {
  return static_cast<std::int32_t>(code);
}

// ZooKeeper's record of a failed multi: ops before the failure OK, the failed one its error,
// the rest RUNTIMEINCONSISTENCY.
MultiTxn failedMultiTxn(std::size_t opCount, std::size_t failedIndex, Err err) {
  MultiTxn multi;
  for (std::size_t i = 0; i < opCount; ++i) {
    Err code = i < failedIndex ? Err::kOk : i == failedIndex ? err : Err::kRuntimeInconsistency;
    multi.txns.push_back(SubTxn{op(OpCode::kError), ErrorTxn{static_cast<std::int32_t>(code)}});
  }
  return multi;
}

}  // namespace

void RequestProcessor::touch(std::int64_t sessionId) {
  sessions_.touch(sessionId, clock_());
  if (config_.role == PipelineRole::kLearner && sessions_.contains(sessionId))
    touched_[sessionId] = sessions_.timeoutOf(sessionId);
}

void RequestProcessor::startEpoch(std::int64_t epoch) {
  lastAssignedZxid_ = std::max(lastAssignedZxid_, epoch << 32);
  std::int64_t now = clock_();
  for (const auto& [id, entry] : sessions_.all()) {
    if (!entry.closing) sessions_.touch(id, now);
  }
}

void RequestProcessor::forwardToLeader(std::int64_t sessionId, Client& client, Pending pending,
                                       std::span<const std::uint8_t> body) {
  pending.kind = pending.op == op(OpCode::kSync) ? Kind::kSync : Kind::kWrite;
  if (pending.op == op(OpCode::kSync)) {
    // The reply is known now; only its moment depends on the leader.
    try {
      jute::Reader in(body);
      jute::Writer out;
      PathRequest{PathRequest::read(in).path}.write(out);
      pending.frame = out.take();
    } catch (const jute::DecodeError& e) {
      --outstanding_;
      if (auto channel = pending.channel.lock())
        channel->close(std::string("malformed sync request: ") + e.what());
      return;
    }
    forwardedSyncs_.push_back(sessionId);
  }
  std::int32_t cxid = pending.xid;
  std::int32_t type = pending.op;
  client.queue.push_back(std::move(pending));
  if (forwarder_ == nullptr) return;  // no leader: the connection closes when the role ends
  forwarder_->forward(sessionId, cxid, type,
                      std::string(reinterpret_cast<const char*>(body.data()), body.size()),
                      client.authIds);
}

void RequestProcessor::syncAnswered() {
  if (forwardedSyncs_.empty()) return;
  std::int64_t sessionId = forwardedSyncs_.front();
  forwardedSyncs_.pop_front();
  Client* client = findClient(sessionId);
  if (client == nullptr) return;
  for (auto& pending : client->queue) {
    if (pending.kind != Kind::kSync || pending.ready) continue;
    pending.frame = replyFrame(pending.xid, tree_.lastProcessedZxid(), Err::kOk, pending.frame);
    pending.ready = true;
    break;
  }
  drain(sessionId);
}

void RequestProcessor::applyCommitted(Txn txn) {
  std::int32_t requestOp = txn.header.type;
  bool ours = false;
  if (Client* client = findClient(txn.header.clientId)) {
    for (const auto& pending : client->queue) {
      if (pending.kind != Kind::kWrite || pending.ready) continue;
      if (pending.xid == txn.header.cxid) {
        ours = true;
        requestOp = pending.op;
      }
      break;
    }
  }
  applyOne(InFlight{std::move(txn), requestOp, ours});
}

std::vector<std::pair<std::int64_t, std::int32_t>> RequestProcessor::takeTouchedSessions() {
  std::vector<std::pair<std::int64_t, std::int32_t>> out(touched_.begin(), touched_.end());
  touched_.clear();
  return out;
}

void RequestProcessor::touchSessions(
    const std::vector<std::pair<std::int64_t, std::int32_t>>& sessions) {
  std::int64_t now = clock_();
  for (const auto& [id, timeout] : sessions) sessions_.touch(id, now);
}

void RequestProcessor::remoteRequest(std::int64_t learnerSid, std::int64_t sessionId,
                                     std::int32_t cxid, std::int32_t type,
                                     std::span<const std::uint8_t> body, std::vector<Id> authIds) {
  ++stats_.packetsReceived;
  if (type == op(OpCode::kSync)) {
    if (lastAssignedZxid_ > tree_.lastProcessedZxid()) {
      remoteSyncWaiters_.emplace(lastAssignedZxid_, learnerSid);
    } else if (onRemoteSyncReady) {
      onRemoteSyncReady(learnerSid);
    }
    return;
  }
  TxnHeader header{sessionId, cxid, lastAssignedZxid_ + 1, clock_(), type};
  try {
    if (!writesRefused_.empty()) throw KeeperError{Err::kSystemError};
    if (type == op(OpCode::kCreateSession)) {
      jute::Reader in(body);
      std::int32_t timeout = std::clamp(in.readInt("timeOut"), config_.minSessionTimeoutMs,
                                        config_.maxSessionTimeoutMs);
      sessions_.add(sessionId, timeout, clock_());
      lastAssignedZxid_ = header.zxid;
      return log(Txn{header, CreateSessionTxn{timeout}}, type, false);
    }
    if (!sessions_.contains(sessionId) || sessions_.isClosing(sessionId))
      throw KeeperError{Err::kSessionExpired};
    Client remote;
    remote.authIds = std::move(authIds);
    Pending pending;
    pending.xid = cxid;
    pending.op = type;
    log(prepareTxn(sessionId, pending, body, &remote), type, false);
  } catch (const KeeperError& e) {
    logRemoteFailure(header, e.code);
  } catch (const MultiFailure& failure) {
    lastAssignedZxid_ = header.zxid;
    log(Txn{header, failedMultiTxn(failure.opCount, failure.failedIndex, failure.err)}, type,
        false);
  } catch (const jute::DecodeError&) {
    logRemoteFailure(header, Err::kMarshallingError);
  }
}

void RequestProcessor::logRemoteFailure(const TxnHeader& header, Err err) {
  TxnHeader error = header;
  error.type = op(OpCode::kError);
  lastAssignedZxid_ = error.zxid;
  log(Txn{error, ErrorTxn{static_cast<std::int32_t>(err)}}, header.type, false);
}

void RequestProcessor::releaseRemoteSyncs(std::int64_t appliedZxid) {
  while (!remoteSyncWaiters_.empty() && remoteSyncWaiters_.begin()->first <= appliedZxid) {
    std::int64_t sid = remoteSyncWaiters_.begin()->second;
    remoteSyncWaiters_.erase(remoteSyncWaiters_.begin());
    if (onRemoteSyncReady) onRemoteSyncReady(sid);
  }
}

}  // namespace zk

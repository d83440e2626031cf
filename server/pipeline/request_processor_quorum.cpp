// The parts of the pipeline that exist only in an ensemble: a leader preparing writes that
// learners forwarded, and a learner forwarding writes and applying what the leader commits.

#include "jute/reader.h"
#include "jute/writer.h"
#include "pipeline/failed_writes.h"
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

// ZooKeeper's leader logs a request from a member the session has left as an error txn with
// the old connection's cxid; that txn never answers a request here.
bool isSessionMovedError(const Txn& txn) {
  const auto* error = std::get_if<ErrorTxn>(&txn.body);
  return error != nullptr && error->err == static_cast<std::int32_t>(Err::kSessionMoved);
}

}  // namespace

void RequestProcessor::touch(std::int64_t sessionId) {
  sessions_.touch(sessionId, clock_());
  if (config_.role == PipelineRole::kLearner && sessions_.contains(sessionId))
    touched_[sessionId] = sessions_.timeoutOf(sessionId);
}

void RequestProcessor::startLeading() {
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
  if (links_.forwarder == nullptr) return;  // no leader: the connection closes when the role ends
  links_.forwarder->forward(sessionId, cxid, type,
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
  Client* client = findClient(txn.header.clientId);
  if (client != nullptr && txn.header.zxid > client->matchAfterZxid && !isSessionMovedError(txn)) {
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
    if (std::int64_t last = lastLoggedZxid(); last > tree_.lastProcessedZxid()) {
      remoteSyncWaiters_.emplace(last, learnerSid);
    } else if (links_.remoteSyncReady) {
      links_.remoteSyncReady(learnerSid);
    }
    return;
  }
  // Without a zxid (stepping down) the request is dropped; the learner's link goes with us.
  std::optional<std::int64_t> zxid = sink_.nextZxid();
  if (!zxid) return;
  TxnHeader header{sessionId, cxid, *zxid, clock_(), type};
  if (!writesRefused_.empty()) return log(errorTxn(header, Err::kSystemError), type, false);
  if (type == op(OpCode::kCreateSession)) return remoteCreateSession(learnerSid, header, body);
  bool live = sessions_.contains(sessionId) && !sessions_.isClosing(sessionId);
  if (live && !claimOwnership(sessionId, learnerSid)) {
    // ZooKeeper logs a SESSIONMOVED error txn here. Its cxid belongs to the session's old
    // connection and could be mistaken elsewhere for a request of the new one, so the
    // request is dropped instead: its client has already moved on.
    return;
  }
  Client remote;
  remote.authIds = std::move(authIds);
  Pending pending;
  pending.xid = cxid;
  pending.op = type;
  log(prepareOrFailure(header, pending, body, &remote), type, false);
}

void RequestProcessor::remoteCreateSession(std::int64_t learnerSid, const TxnHeader& header,
                                           std::span<const std::uint8_t> body) {
  std::int32_t timeout = 0;
  try {
    jute::Reader in(body);
    timeout =
        std::clamp(in.readInt("timeOut"), config_.minSessionTimeoutMs, config_.maxSessionTimeoutMs);
  } catch (const jute::DecodeError&) {
    return log(errorTxn(header, Err::kMarshallingError), header.type, false);
  }
  sessions_.add(header.clientId, timeout, clock_());
  owners_[header.clientId] = learnerSid;
  log(Txn{header, CreateSessionTxn{timeout}}, header.type, false);
}

void RequestProcessor::releaseRemoteSyncs(std::int64_t appliedZxid) {
  while (!remoteSyncWaiters_.empty() && remoteSyncWaiters_.begin()->first <= appliedZxid) {
    std::int64_t sid = remoteSyncWaiters_.begin()->second;
    remoteSyncWaiters_.erase(remoteSyncWaiters_.begin());
    if (links_.remoteSyncReady) links_.remoteSyncReady(sid);
  }
}

// ---- Sessions that move between members ----

bool RequestProcessor::claimOwnership(std::int64_t sessionId, std::int64_t memberSid) {
  // A new leader knows no owners; the first member to speak for a session owns it, as in
  // ZooKeeper's SessionTracker.checkSession.
  auto [it, fresh] = owners_.try_emplace(sessionId, memberSid);
  return fresh || it->second == memberSid;
}

RequestProcessor::Revalidation RequestProcessor::revalidateSession(std::int64_t learnerSid,
                                                                   std::int64_t sessionId) {
  bool valid = sessions_.contains(sessionId) && !sessions_.isClosing(sessionId) &&
               sessions_.touch(sessionId, clock_());
  if (valid) {
    std::int64_t& owner = owners_[sessionId];
    if (owner == config_.serverId && learnerSid != config_.serverId) {
      if (Client* client = findClient(sessionId)) {
        if (auto channel = client->channel.lock())
          channel->close("session " + hex(sessionId) + " moved to member " +
                         std::to_string(learnerSid));
      }
    }
    owner = learnerSid;
  }
  return {valid, lastLoggedZxid()};
}

void RequestProcessor::awaitRevalidation(const std::shared_ptr<ClientChannel>& channel,
                                         const ConnectRequest& request) {
  std::int64_t id = request.sessionId;
  if (links_.forwarder == nullptr || !links_.forwarder->revalidate(id, sessions_.timeoutOf(id))) {
    channel->close("cannot revalidate session " + hex(id) + ": no link to the leader");
    return;
  }
  auto& waiting = revalidating_[id];
  if (auto older = waiting.channel.lock(); older && older != channel) older->close("session moved");
  // A client waits for its connect response no longer than its session timeout.
  waiting = {channel, request.hasReadOnlyByte, clock_() + sessions_.timeoutOf(id)};
}

void RequestProcessor::sessionRevalidated(std::int64_t sessionId, bool valid,
                                          std::int64_t boundaryZxid) {
  auto it = revalidating_.find(sessionId);
  if (it == revalidating_.end()) return;  // answered already, or the client gave up
  AwaitingRevalidation waiting = it->second;
  revalidating_.erase(it);
  auto channel = waiting.channel.lock();
  if (!channel) return;
  if (!valid) {
    channel->send(expiredSessionFrame(waiting.readOnlyByte));
    channel->close("the leader says session " + hex(sessionId) + " has expired");
    return;
  }
  Client& client = establishExisting(channel, sessionId, waiting.readOnlyByte);
  dropStaleRequests(sessionId, client, channel);
  client.matchAfterZxid = std::max(client.matchAfterZxid, boundaryZxid);
}

void RequestProcessor::expireRevalidations(std::int64_t nowMs) {
  std::erase_if(revalidating_, [&](const auto& entry) {
    if (entry.second.deadlineMs > nowMs) return false;
    if (auto channel = entry.second.channel.lock())
      channel->close("the leader did not revalidate session " + hex(entry.first) + " in time");
    return true;
  });
}

// Requests of the session's earlier connections: their answers can reach nobody, and a write
// among them would otherwise wait at the head of the queue for a commit it cannot match.
void RequestProcessor::dropStaleRequests(std::int64_t sessionId, Client& client,
                                         const std::shared_ptr<ClientChannel>& current) {
  std::size_t syncs = 0;
  std::erase_if(client.queue, [&](const Pending& pending) {
    if (pending.channel.lock() == current) return false;
    if (pending.kind == Kind::kSync) ++syncs;
    --outstanding_;
    return true;
  });
  // The leader still answers the dropped syncs, in order; those answers must find no one.
  for (auto& waiting : forwardedSyncs_) {
    if (syncs == 0) break;
    if (waiting == sessionId) {
      waiting = 0;
      --syncs;
    }
  }
}

}  // namespace zk

#include "pipeline/request_processor.h"

#include <algorithm>

#include "acl/acl.h"
#include "jute/reader.h"
#include "jute/writer.h"
#include "pipeline/failed_writes.h"
#include "pipeline/prep.h"
#include "pipeline/reads.h"
#include "pipeline/replies.h"
#include "protocol/errors.h"
#include "protocol/opcodes.h"
#include "util/log.h"

namespace zk {
namespace {

constexpr auto op(OpCode code) {
  return static_cast<std::int32_t>(code);
}

// The ops ZooKeeper accepts from clients (Request.isValid); anything else is answered
// UNIMPLEMENTED and the connection closed, as ZooKeeper does.
bool isKnownOp(std::int32_t type) {
  switch (static_cast<OpCode>(type)) {
    case OpCode::kNotification:
    case OpCode::kCreateSession:
    case OpCode::kError:
    case OpCode::kAuth:
      return false;
    default:
      return opName(type) != "unknown";
  }
}

}  // namespace

RequestProcessor::RequestProcessor(ProcessorConfig config, DataTree& tree, TxnSink& sink,
                                   Clock clock, PipelineLinks links)
    : config_(std::move(config)),
      tree_(tree),
      sink_(sink),
      clock_(std::move(clock)),
      sessions_(config_.serverId, config_.tickMs, clock_()),
      overlay_(tree),
      nextReapMs_(clock_() + config_.containerCheckIntervalMs),
      links_(std::move(links)) {
  if (config_.enforceQuota) quotaGuard_.emplace(tree_, config_.log);
}

void RequestProcessor::restoreSessions(const std::map<std::int64_t, std::int32_t>& sessions) {
  std::int64_t now = clock_();
  for (const auto& [id, timeout] : sessions) sessions_.add(id, timeout, now);
}

RequestProcessor::Client* RequestProcessor::findClient(std::int64_t sessionId) {
  auto it = clients_.find(sessionId);
  return it == clients_.end() ? nullptr : &it->second;
}

void RequestProcessor::connect(const std::shared_ptr<ClientChannel>& channel,
                               const ConnectRequest& request) {
  ++stats_.packetsReceived;
  if (request.lastZxidSeen > tree_.lastProcessedZxid()) {
    channel->close("client has seen zxid " + hex(request.lastZxidSeen) + " beyond ours (" +
                   hex(tree_.lastProcessedZxid()) + "); it must try another server");
    return;
  }
  std::int32_t timeout =
      std::clamp(request.timeOut, config_.minSessionTimeoutMs, config_.maxSessionTimeoutMs);
  if (config_.role == PipelineRole::kReadOnly) return readOnlyConnect(channel, request, timeout);
  if (request.sessionId != 0) {
    bool valid = request.passwd == SessionTracker::passwordFor(request.sessionId) &&
                 sessions_.touch(request.sessionId, clock_());
    if (valid) touch(request.sessionId);
    if (!valid) {
      channel->send(expiredSessionFrame(request.hasReadOnlyByte));
      channel->close("session " + hex(request.sessionId) + " is expired or its password is wrong");
      return;
    }
    // A learner cannot know whether the session moved here from another member.
    if (config_.role == PipelineRole::kLearner) return awaitRevalidation(channel, request);
    if (config_.role == PipelineRole::kLeader) owners_[request.sessionId] = config_.serverId;
    establishExisting(channel, request.sessionId, request.hasReadOnlyByte);
    return;
  }
  if (!writesRefused_.empty()) {
    channel->close("cannot create sessions: " + writesRefused_);
    return;
  }
  std::optional<std::int64_t> zxid = sink_.nextZxid();
  if (config_.role != PipelineRole::kLearner && !zxid) {
    channel->close("cannot create sessions: this member is not a serving leader");
    return;
  }
  std::int64_t id = sessions_.nextSessionId();
  Client& client = clients_[id];
  client.channel = channel;
  client.authIds = connectionAuthIds(*channel);
  sessions_.add(id, timeout, clock_());  // tracked now so it cannot expire unnoticed
  if (config_.role == PipelineRole::kLeader) owners_[id] = config_.serverId;
  channel->sessionEstablished(id, timeout);
  Pending pending;
  pending.channel = channel;
  pending.op = op(OpCode::kCreateSession);
  pending.kind = Kind::kWrite;
  pending.establishTimeoutMs = timeout;
  pending.startedMs = clock_();
  ConnectResponse ok{
      0, timeout, id, SessionTracker::passwordFor(id), false, request.hasReadOnlyByte};
  pending.frame = connectFrame(ok);
  ++outstanding_;
  if (config_.role == PipelineRole::kLearner) {
    jute::Writer body;
    body.writeInt(timeout);
    const std::string& bytes = body.bytes();
    return forwardToLeader(
        id, client, std::move(pending),
        std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
  }
  Txn txn{TxnHeader{id, 0, *zxid, clock_(), op(OpCode::kCreateSession)}, CreateSessionTxn{timeout}};
  pending.zxid = txn.header.zxid;
  client.queue.push_back(std::move(pending));
  log(std::move(txn), op(OpCode::kCreateSession), true);
}

RequestProcessor::Client& RequestProcessor::establishExisting(
    const std::shared_ptr<ClientChannel>& channel, std::int64_t sessionId, bool readOnlyByte) {
  Client& client = clients_[sessionId];
  if (auto old = client.channel.lock(); old && old != channel) old->close("session moved");
  client.channel = channel;
  client.authIds = connectionAuthIds(*channel);
  ConnectResponse response;
  response.withReadOnlyByte = readOnlyByte;
  response.timeOut = sessions_.timeoutOf(sessionId);
  response.sessionId = sessionId;
  response.passwd = SessionTracker::passwordFor(sessionId);
  channel->sessionEstablished(sessionId, response.timeOut);
  channel->send(connectFrame(response));
  ++stats_.packetsSent;
  return client;
}

void RequestProcessor::request(const std::shared_ptr<ClientChannel>& channel,
                               std::int64_t sessionId, const RequestHeader& header,
                               std::span<const std::uint8_t> body) {
  ++stats_.packetsReceived;
  Client* client = findClient(sessionId);
  if (client == nullptr) {
    channel->close("request for unknown session");
    return;
  }
  touch(sessionId);
  if (header.type == op(OpCode::kAuth)) return handleAuth(channel, *client, body);
  if (!authenticatedEnough(*client)) {
    channel->send(replyFrame(header.xid, 0, Err::kSessionClosedRequireSaslAuth));
    ++stats_.packetsSent;
    channel->close("session " + hex(sessionId) + " is not authenticated by an enforced scheme");
    return;
  }
  if (!isKnownOp(header.type) && header.type != op(OpCode::kSasl)) {
    channel->send(replyFrame(header.xid, tree_.lastProcessedZxid(), Err::kUnimplemented));
    channel->close("unknown op code " + std::to_string(header.type));
    return;
  }

  if (config_.role == PipelineRole::kLeader && !claimOwnership(sessionId, config_.serverId)) {
    channel->send(replyFrame(header.xid, tree_.lastProcessedZxid(), Err::kSessionMoved));
    channel->close("session " + hex(sessionId) + " moved to another member");
    return;
  }
  Pending pending;
  pending.channel = channel;
  pending.xid = header.xid;
  pending.op = header.type;
  pending.startedMs = clock_();
  ++outstanding_;
  if (config_.role == PipelineRole::kReadOnly &&
      refusedAsReadOnly(channel, sessionId, *client, pending))
    return;
  if (config_.role == PipelineRole::kLearner &&
      (header.type == op(OpCode::kSync) || isWriteOp(header.type))) {
    return forwardToLeader(sessionId, *client, std::move(pending), body);
  }
  if (header.type == op(OpCode::kSync)) {
    jute::Writer out;
    try {
      jute::Reader in(body);
      PathRequest{PathRequest::read(in).path}.write(out);
    } catch (const jute::DecodeError&) {
      pending.frame = replyFrame(pending.xid, 0, Err::kMarshallingError);
    }
    return addBarrier(sessionId, *client, std::move(pending), out.take());
  }
  if (isWriteOp(header.type)) {
    pending.kind = Kind::kWrite;
    return submitWrite(sessionId, client, std::move(pending), body);
  }
  pending.payload.assign(reinterpret_cast<const char*>(body.data()), body.size());
  enqueueRead(*client, std::move(pending));
  drain(sessionId);
}

bool RequestProcessor::authenticatedEnough(const Client& client) const {
  if (config_.enforcedAuthSchemes.empty()) return true;
  return std::any_of(client.authIds.begin(), client.authIds.end(), [&](const Id& id) {
    return std::find(config_.enforcedAuthSchemes.begin(), config_.enforcedAuthSchemes.end(),
                     id.scheme) != config_.enforcedAuthSchemes.end();
  });
}

void RequestProcessor::addAuthId(std::int64_t sessionId, Id id) {
  Client* client = findClient(sessionId);
  if (client == nullptr) return;
  if (std::find(client->authIds.begin(), client->authIds.end(), id) == client->authIds.end())
    client->authIds.push_back(std::move(id));
  std::sort(client->authIds.begin(), client->authIds.end());
}

void RequestProcessor::handleAuth(const std::shared_ptr<ClientChannel>& channel, Client& client,
                                  std::span<const std::uint8_t> body) {
  AuthPacket packet;
  try {
    jute::Reader in(body);
    packet = AuthPacket::read(in);
  } catch (const jute::DecodeError&) {
    packet.scheme.clear();
  }
  bool ok = true;
  if (packet.scheme == "digest" && packet.auth.find(':') != std::string::npos) {
    std::string digest = digestFor(packet.auth);
    client.authIds.push_back(Id{"digest", digest});
    if (!config_.superDigest.empty() && digest == config_.superDigest)
      client.authIds.push_back(Id{"super", ""});
  } else if (packet.scheme == "ip") {
    client.authIds.push_back(Id{"ip", channel->remoteAddress()});
  } else {
    ok = false;
  }
  std::sort(client.authIds.begin(), client.authIds.end());
  client.authIds.erase(std::unique(client.authIds.begin(), client.authIds.end()),
                       client.authIds.end());
  channel->send(replyFrame(xid::kAuth, 0, ok ? Err::kOk : Err::kAuthFailed));
  ++stats_.packetsSent;
  if (!ok) channel->close("authentication failed for scheme '" + packet.scheme + "'");
}

void RequestProcessor::enqueueRead(Client& client, Pending pending) {
  pending.kind = Kind::kRead;
  client.queue.push_back(std::move(pending));
}

void RequestProcessor::addBarrier(std::int64_t sessionId, Client& client, Pending pending,
                                  std::string body) {
  std::int64_t waitFor = lastLoggedZxid();
  pending.kind = Kind::kBarrier;
  pending.zxid = waitFor;
  if (pending.frame.empty()) pending.frame = replyFrame(pending.xid, 0, Err::kOk, body);
  client.queue.push_back(std::move(pending));
  if (waitFor > tree_.lastProcessedZxid()) {
    barrierWaiters_.emplace(waitFor, sessionId);
  } else {
    drain(sessionId);
  }
}

void RequestProcessor::submitWrite(std::int64_t sessionId, Client* client, Pending pending,
                                   std::span<const std::uint8_t> body) {
  if (!writesRefused_.empty()) {
    // The log has failed, so not even an error txn can be written.
    pending.frame = replyFrame(pending.xid, 0, Err::kSystemError);
    return addBarrier(sessionId, *client, std::move(pending), {});
  }
  std::optional<std::int64_t> zxid = sink_.nextZxid();
  if (!zxid) {
    // A leader stepping down (its zxid counter rolled over): as ZooKeeper's, it answers nothing
    // more, and the client retries elsewhere knowing nothing was logged.
    --outstanding_;
    if (auto channel = pending.channel.lock())
      channel->close("this member can no longer assign zxids (not a serving leader)");
    return;
  }
  Txn txn = prepareOrFailure(TxnHeader{sessionId, pending.xid, *zxid, clock_(), pending.op},
                             pending, body, client);
  pending.zxid = txn.header.zxid;
  client->queue.push_back(std::move(pending));
  log(std::move(txn), client->queue.back().op, true);
}

// As ZooKeeper's PrepRequestProcessor: a write that fails its checks still takes its zxid and
// becomes a txn (an error txn, or a multi of error txns) that is logged, committed and applied
// like any other. Its client is answered when it applies, with that zxid in the reply header,
// so it never sees an outcome that a crash could undo.
Txn RequestProcessor::prepareOrFailure(const TxnHeader& header, const Pending& pending,
                                       std::span<const std::uint8_t> body, Client* client) {
  try {
    std::int64_t sessionId = header.clientId;
    if (!sessions_.contains(sessionId) || sessions_.isClosing(sessionId))
      throw KeeperError{Err::kSessionExpired};
    return prepareTxn(header, pending, body, client);
  } catch (const KeeperError& e) {
    return errorTxn(header, e.code);
  } catch (const MultiFailure& failure) {
    return Txn{header, failedMultiTxn(failure.opCount, failure.failedIndex, failure.err)};
  } catch (const jute::DecodeError&) {
    return errorTxn(header, Err::kMarshallingError);  // ZooKeeper's answer to a malformed write
  } catch (const UnknownAclReference&) {
    return errorTxn(header, Err::kMarshallingError);  // and to one that fails unexpectedly
  }
}

Txn RequestProcessor::prepareTxn(const TxnHeader& header, const Pending& pending,
                                 std::span<const std::uint8_t> body, Client* client) {
  std::int64_t sessionId = header.clientId;
  // Only the container reaper may delete a container. ZooKeeper reads a client's request as a
  // raw path, which a jute string's length prefix makes invalid: BADARGUMENTS.
  if (pending.op == op(OpCode::kDeleteContainer)) throw KeeperError{Err::kBadArguments};
  if (pending.op == op(OpCode::kCloseSession)) return prepareClose(sessionId, header);
  if (pending.op == op(OpCode::kMulti)) return prepareMulti(sessionId, body, client, header);
  jute::Reader in(body);
  ScratchView view(overlay_);
  PrepContext ctx{sessionId,
                  client ? std::span<const Id>(client->authIds) : std::span<const Id>(),
                  header.zxid,
                  header.time,
                  config_.extendedTypesEnabled,
                  config_.reconfigEnabled};
  if (quotaGuard_) ctx.quotas = &*quotaGuard_;
  if (config_.planReconfig) ctx.planReconfig = &config_.planReconfig;
  PreparedOp prepared = prepareOp(pending.op, in, ctx, view);
  view.commitTo(overlay_, header.zxid);
  Txn txn{header, {}};
  std::visit([&](auto&& body) { txn.body = TxnBody(std::move(body)); }, std::move(prepared.body));
  return txn;
}

Txn RequestProcessor::prepareMulti(std::int64_t sessionId, std::span<const std::uint8_t> body,
                                   Client* client, const TxnHeader& header) {
  jute::Reader in(body);
  ScratchView view(overlay_);
  PrepContext ctx{sessionId, client ? std::span<const Id>(client->authIds) : std::span<const Id>(),
                  header.zxid, header.time, config_.extendedTypesEnabled};
  if (quotaGuard_) ctx.quotas = &*quotaGuard_;
  MultiTxn multi;
  std::optional<MultiFailure> failure;
  for (;;) {
    auto opHeader = MultiHeader::read(in);
    if (opHeader.done) break;
    if (!allowedInMulti(opHeader.type))
      throw jute::DecodeError("multi: op type " + std::to_string(opHeader.type) +
                              " is not allowed inside a multi");
    if (failure) {  // the rest is decoded only to count it
      skipMultiOp(opHeader.type, in);
      ++failure->opCount;
      continue;
    }
    try {
      PreparedOp prepared = prepareMultiOp(opHeader.type, in, ctx, view);
      multi.txns.push_back(SubTxn{prepared.type, std::move(prepared.body)});
    } catch (const KeeperError& e) {
      failure.emplace(multi.txns.size() + 1, multi.txns.size(), e);
    }
  }
  if (failure) throw *failure;
  view.commitTo(overlay_, header.zxid);
  return Txn{header, std::move(multi)};
}

Txn RequestProcessor::prepareClose(std::int64_t sessionId, const TxnHeader& header) {
  auto paths = ephemeralsToClose(sessionId, tree_, overlay_);
  ScratchView view(overlay_);
  recordSessionClose(paths, header.zxid, view);
  view.commitTo(overlay_, header.zxid);
  sessions_.markClosing(sessionId);
  return Txn{header, CloseSessionTxn{std::move(paths)}};
}

std::int64_t RequestProcessor::lastLoggedZxid() const {
  return inflight_.empty() ? tree_.lastProcessedZxid() : inflight_.back().txn.header.zxid;
}

void RequestProcessor::log(Txn txn, std::int32_t requestOp, bool fromClient) {
  sink_.append(txn);
  if (links_.txnLogged) links_.txnLogged(txn);
  inflight_.push_back(InFlight{std::move(txn), requestOp, fromClient});
}

void RequestProcessor::onDurable(std::int64_t zxid) {
  while (!inflight_.empty() && inflight_.front().txn.header.zxid <= zxid) {
    InFlight entry = std::move(inflight_.front());
    inflight_.pop_front();
    applyOne(std::move(entry));
  }
}

void RequestProcessor::applyOne(InFlight entry) {
  const TxnHeader& header = entry.txn.header;
  ApplyResult result = tree_.apply(entry.txn);
  overlay_.retire(header.zxid);
  deliver(result.triggers);
  finishSessionChange(entry);

  std::int64_t sessionId = header.clientId;
  if (Client* client = entry.fromClient ? findClient(sessionId) : nullptr) {
    for (auto& pending : client->queue) {
      if (pending.kind != Kind::kWrite || pending.ready) continue;
      if (pending.establishTimeoutMs == 0) {
        // A multi txn's outcome is in its per-op results and its header says OK, as
        // ZooKeeper's; a multi that did not decode is an error txn like any other write's.
        bool multi = header.type == op(OpCode::kMulti);
        pending.frame =
            replyFrame(pending.xid, header.zxid, multi ? Err::kOk : result.err,
                       result.err == Err::kOk || multi ? responseBody(entry.requestOp, result)
                                                       : std::string());
      }
      pending.ready = true;
      break;
    }
    drain(sessionId);
  }
  while (!barrierWaiters_.empty() && barrierWaiters_.begin()->first <= header.zxid) {
    std::int64_t waiting = barrierWaiters_.begin()->second;
    barrierWaiters_.erase(barrierWaiters_.begin());
    drain(waiting);
  }
  releaseRemoteSyncs(header.zxid);
  if (header.type == op(OpCode::kReconfig) && result.err == Err::kOk && links_.configCommitted) {
    if (const auto* txn = std::get_if<SetDataTxn>(&entry.txn.body))
      links_.configCommitted(txn->data.value_or(""));
  }
  if (header.type == op(OpCode::kCloseSession))
    closeSessionNow(sessionId, entry.fromClient ? "session closed by client" : "session expired");
}

// A reconfig answers as getData of /zookeeper/config does: the new configuration and its stat.
std::string RequestProcessor::responseBody(std::int32_t requestOp,
                                           const ApplyResult& result) const {
  if (requestOp != op(OpCode::kReconfig)) return writeResponseBody(requestOp, result);
  jute::Writer out;
  const Node* node = tree_.find("/zookeeper/config");
  out.writeBuffer(node != nullptr ? node->data() : std::string_view());
  result.stat.write(out);
  return out.take();
}

void RequestProcessor::finishSessionChange(const InFlight& entry) {
  const TxnHeader& header = entry.txn.header;
  if (header.type == op(OpCode::kCreateSession)) {
    if (!sessions_.contains(header.clientId))
      sessions_.add(header.clientId, std::get<CreateSessionTxn>(entry.txn.body).timeOut, clock_());
  } else if (header.type == op(OpCode::kCloseSession)) {
    watches_.removeSession(header.clientId);
  }
}

void RequestProcessor::closeSessionNow(std::int64_t sessionId, std::string_view reason) {
  sessions_.remove(sessionId);
  owners_.erase(sessionId);
  Client* client = findClient(sessionId);
  if (client == nullptr) return;
  drain(sessionId);
  if (auto channel = client->channel.lock()) channel->close(reason);
  if (client->queue.empty()) clients_.erase(sessionId);
}

void RequestProcessor::deliver(const std::vector<WatchTrigger>& triggers) {
  for (const auto& trigger : triggers) {
    for (const auto& delivery : watches_.trigger(trigger)) {
      Client* client = findClient(delivery.session);
      if (client == nullptr) continue;
      if (auto channel = client->channel.lock()) {
        channel->send(notificationFrame(delivery.event));
        ++stats_.packetsSent;
      }
    }
  }
}

void RequestProcessor::drain(std::int64_t sessionId) {
  Client* client = findClient(sessionId);
  if (client == nullptr) return;
  auto& queue = client->queue;
  while (!queue.empty()) {
    Pending& head = queue.front();
    if (head.kind == Kind::kWrite && !head.ready) break;
    if (head.kind == Kind::kBarrier && head.zxid > tree_.lastProcessedZxid()) break;
    if (head.kind == Kind::kBarrier) setReplyZxid(head.frame, tree_.lastProcessedZxid());
    if (head.kind == Kind::kSync && !head.ready) break;
    if (head.kind == Kind::kRead) {
      auto body = std::span(reinterpret_cast<const std::uint8_t*>(head.payload.data()),
                            head.payload.size());
      head.frame = runRead(sessionId, *client, head.xid, head.op, body);
    }
    send(sessionId, head);
    queue.pop_front();
  }
}

std::string RequestProcessor::runRead(std::int64_t sessionId, Client& client, std::int32_t xid,
                                      std::int32_t type, std::span<const std::uint8_t> body) {
  std::int64_t zxid = tree_.lastProcessedZxid();
  if (type == op(OpCode::kPing)) return replyFrame(xid::kPing, zxid, Err::kOk);
  ReadContext ctx{sessionId, client.authIds, tree_, watches_};
  jute::Reader in(body);
  try {
    if (type == op(OpCode::kSetWatches) || type == op(OpCode::kSetWatches2)) {
      auto req = SetWatchesRequest::read(in, type == op(OpCode::kSetWatches2));
      std::string frames;
      for (const auto& event : rearmWatches(req, ctx)) frames += notificationFrame(event);
      return frames + replyFrame(xid, zxid, Err::kOk);
    }
    if (!isReadOp(type)) return replyFrame(xid, zxid, Err::kUnimplemented);
    jute::Writer out;
    executeRead(type, in, ctx, out);
    return replyFrame(xid, zxid, Err::kOk, out.bytes());
  } catch (const KeeperError& e) {
    return replyFrame(xid, zxid, e.code);
  } catch (const PartialReadReply& e) {
    return replyFrame(xid, zxid, Err::kMarshallingError, e.body);
  } catch (const jute::DecodeError& e) {
    return replyFrame(xid, zxid, Err::kMarshallingError);
  } catch (const UnknownAclReference&) {
    return replyFrame(xid, zxid, Err::kMarshallingError);  // as ZooKeeper's FinalRequestProcessor
  }
}

void RequestProcessor::send(std::int64_t /*sessionId*/, Pending& pending) {
  std::int64_t now = clock_();
  std::int64_t latency = std::max<std::int64_t>(0, now - pending.startedMs);
  if (auto channel = pending.channel.lock()) {
    bool connect = pending.op == op(OpCode::kCreateSession);
    AnsweredRequest answered{
        pending.xid, pending.op, connect ? 0 : replyError(pending.frame), tree_.lastProcessedZxid(),
        latency,     now};
    channel->send(std::move(pending.frame));
    channel->requestCompleted(answered);
    ++stats_.packetsSent;
  }
  --outstanding_;
  ++stats_.requestsCompleted;
  stats_.latencyTotalMs += latency;
  stats_.latencyMaxMs = std::max(stats_.latencyMaxMs, latency);
  stats_.latencyMinMs = stats_.latencyMinMs < 0 ? latency : std::min(stats_.latencyMinMs, latency);
  // ZooKeeper's readlatency/updatelatency count client reads and writes, not pings or syncs.
  bool counted = pending.kind == Kind::kRead ? isReadOp(pending.op) : pending.kind == Kind::kWrite;
  if (counted && links_.requestAnswered)
    links_.requestAnswered(pending.kind == Kind::kRead, latency);
}

}  // namespace zk

namespace zk {

void RequestProcessor::tick() {
  std::int64_t now = clock_();
  // Expiry and reaping are the leader's to decide; a learner only reports activity.
  if (config_.role == PipelineRole::kLearner) return expireRevalidations(now);
  if (config_.role == PipelineRole::kReadOnly) return expireReadOnlySessions(now);
  for (std::int64_t id : sessions_.takeExpired(now)) {
    // Without a zxid (a leader stepping down) the next leader expires the session.
    std::optional<std::int64_t> zxid = sink_.nextZxid();
    if (!writesRefused_.empty() || !zxid) continue;
    TxnHeader header{id, 0, *zxid, now, op(OpCode::kCloseSession)};
    log(prepareClose(id, header), op(OpCode::kCloseSession), false);
  }
  if (now >= nextReapMs_) {
    reapContainers(now);
    nextReapMs_ = now + config_.containerCheckIntervalMs;
  }
}

void RequestProcessor::reapContainers(std::int64_t nowMs) {
  if (!writesRefused_.empty()) return;
  auto budget = std::max<std::int64_t>(
      1, config_.containerMaxPerMinute * config_.containerCheckIntervalMs / 60000);
  for (const auto& path : tree_.reapable(nowMs)) {
    std::optional<std::int64_t> zxid = sink_.nextZxid();
    if (budget-- <= 0 || !zxid) break;
    jute::Writer body;
    PathRequest{path}.write(body);
    jute::Reader in(body.bytes());
    TxnHeader header{0, 0, *zxid, nowMs, op(OpCode::kDeleteContainer)};
    ScratchView view(overlay_);
    try {
      PreparedOp prepared =
          prepareOp(op(OpCode::kDeleteContainer), in, PrepContext{0, {}, header.zxid, nowMs}, view);
      view.commitTo(overlay_, header.zxid);
      log(Txn{header, std::get<DeleteTxn>(prepared.body)}, header.type, false);
    } catch (const KeeperError&) {
      // It gained a child or went away since the tree was scanned: nothing to reap.
    }
  }
}

void RequestProcessor::refuseWrites(std::string reason) {
  writesRefused_ = std::move(reason);
}

}  // namespace zk

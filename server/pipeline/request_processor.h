#pragma once
// The request pipeline of a standalone server. It owns the data tree's write path and runs
// entirely on one thread: requests come in from connections, writes become transactions that
// go to the log, and when the log reports them durable they are applied, watches fire and
// replies go out.
//
// Ordering: each session's replies leave in request order. A read runs as soon as every
// earlier request of its session has been answered, against the applied tree. After each
// applied transaction the affected sessions are drained, so a read queued behind a write
// sees exactly that write and nothing later of its own session.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "pipeline/change_overlay.h"
#include "pipeline/channel.h"
#include "pipeline/prep.h"
#include "pipeline/quota_guard.h"
#include "protocol/records.h"
#include "protocol/txn.h"
#include "sessions/session_tracker.h"
#include "tree/data_tree.h"
#include "watches/watch_manager.h"

namespace zk {

// Standalone: writes are prepared here and committed when durable. Leader: prepared here for
// every member's clients and committed when a quorum has them. Learner (follower or
// observer): writes go to the leader and come back as committed txns, which are applied here.
// Read-only (readonlymode.enabled, a member cut off from its quorum): serves reads from the
// tree it has to clients that asked for a read-only session; every write fails with NOTREADONLY;
// sessions are local to this member and logged nowhere.
enum class PipelineRole { kStandalone, kLeader, kLearner, kReadOnly };

struct ProcessorConfig {
  PipelineRole role = PipelineRole::kStandalone;
  std::int64_t serverId = 0;
  std::int32_t tickMs = 2000;
  std::int32_t minSessionTimeoutMs = 4000;
  std::int32_t maxSessionTimeoutMs = 40000;
  bool extendedTypesEnabled = false;
  bool reconfigEnabled = false;
  std::string superDigest;       // "super:<base64 sha1>", empty: no super user
  ReconfigPlanner planReconfig;  // leader of an ensemble with reconfigEnabled
  std::int64_t containerCheckIntervalMs = 60000;
  std::int32_t containerMaxPerMinute = 10000;
  bool enforceQuota = false;  // zookeeper.enforceQuota
  // enforce.auth.schemes when enforce.auth.enabled (sessionRequireClientSASLAuth: "sasl"):
  // a session holding none of them gets SESSIONCLOSEDREQUIRESASLAUTH for any request.
  std::vector<std::string> enforcedAuthSchemes;
  Logger* log = nullptr;  // where soft quota limits are reported; may be null
};

// Where prepared transactions go to become durable (onDurable() reports back), and the one
// source of their zxids: a standalone server's log counts them, an ensemble leader's come from
// Zab. The pipeline never makes up a zxid, so the two cannot disagree.
class TxnSink {
 public:
  virtual ~TxnSink() = default;
  // The zxid the next appended txn must carry; nullopt when none can be given now (an ensemble
  // member that is not a serving leader).
  virtual std::optional<std::int64_t> nextZxid() const = 0;
  // `txn` carries the zxid nextZxid() named.
  virtual void append(const Txn& txn) = 0;
};

// A learner's way to the leader: the request as Zab's REQUEST packet carries it.
class RequestForwarder {
 public:
  virtual ~RequestForwarder() = default;
  virtual void forward(std::int64_t sessionId, std::int32_t cxid, std::int32_t type,
                       std::string body, const std::vector<Id>& authIds) = 0;
  // Ask the leader whether an existing session may continue here (Zab's REVALIDATE); the
  // answer comes back through sessionRevalidated(). False: no link to a leader to ask.
  virtual bool revalidate(std::int64_t sessionId, std::int32_t timeoutMs) = 0;
};

// Everything the pipeline reports to, or asks of, the component that owns it. Given at
// construction, so no request can reach a processor whose owner has not wired it yet.
struct PipelineLinks {
  // Learner: where writes go; null elsewhere.
  RequestForwarder* forwarder = nullptr;
  // Every transaction handed to the log (snapshot scheduling counts them).
  std::function<void(const Txn&)> txnLogged;
  // A committed reconfig was applied; the new configuration's text.
  std::function<void(const std::string& config)> configCommitted;
  // A client request was answered: whether it only read, and its latency.
  std::function<void(bool read, std::int64_t latencyMs)> requestAnswered;
  // Leader: a learner's sync may be answered (every earlier txn is committed).
  std::function<void(std::int64_t learnerSid)> remoteSyncReady;
};

struct ProcessorStats {
  std::int64_t packetsReceived = 0;
  std::int64_t packetsSent = 0;
  std::int64_t requestsCompleted = 0;
  std::int64_t latencyTotalMs = 0;
  std::int64_t latencyMinMs = -1;
  std::int64_t latencyMaxMs = 0;
};

class RequestProcessor {
 public:
  using Clock = std::function<std::int64_t()>;  // wall-clock milliseconds

  RequestProcessor(ProcessorConfig config, DataTree& tree, TxnSink& sink, Clock clock,
                   PipelineLinks links = {});

  // After recovery: the sessions that were open, each given a fresh full timeout.
  void restoreSessions(const std::map<std::int64_t, std::int32_t>& sessions);

  void connect(const std::shared_ptr<ClientChannel>& channel, const ConnectRequest& request);
  void request(const std::shared_ptr<ClientChannel>& channel, std::int64_t sessionId,
               const RequestHeader& header, std::span<const std::uint8_t> body);
  void onDurable(std::int64_t zxid);
  // The network layer authenticated the session's connection (SASL) as `id`.
  void addAuthId(std::int64_t sessionId, Id id);
  // Session expiry and container/TTL reaping; call at least every tickMs/2.
  void tick();
  // The log failed: nothing more can be made durable, so refuse every write from now on.
  void refuseWrites(std::string reason);

  // ---- Ensemble (request_processor_quorum.cpp) ----
  // Leader, new in its epoch: every session gets a fresh timeout, since the old leader's view of
  // who was alive is gone.
  void startLeading();
  // Leader: a write, sync or session change a learner forwarded for one of its clients.
  // Failures become error txns, so the learner hears of them in commit order.
  void remoteRequest(std::int64_t learnerSid, std::int64_t sessionId, std::int32_t cxid,
                     std::int32_t type, std::span<const std::uint8_t> body,
                     std::vector<Id> authIds);
  // Leader: sessions a learner saw activity on (from its PING).
  void touchSessions(const std::vector<std::pair<std::int64_t, std::int32_t>>& sessions);
  // Learner: one txn the leader committed, in zxid order.
  void applyCommitted(Txn txn);
  // Learner: the leader answered the oldest forwarded sync.
  void syncAnswered();
  // Leader: a learner's client reconnected with an existing session. If the session is alive
  // it now belongs to that learner: requests other members forward for it are dropped from
  // here on, and a connection this leader holds for it is closed. `boundaryZxid` is the last
  // zxid logged so far; every request of an earlier owner has a zxid at or below it.
  struct Revalidation {
    bool valid = false;
    std::int64_t boundaryZxid = 0;
  };
  Revalidation revalidateSession(std::int64_t learnerSid, std::int64_t sessionId);
  // Learner: the leader's answer to revalidate(). Committed txns of this session at or below
  // `boundaryZxid` came from its earlier connections, so none of them answers the new one.
  void sessionRevalidated(std::int64_t sessionId, bool valid, std::int64_t boundaryZxid);
  // Learner: sessions with activity since the last call, for the next PING to the leader.
  std::vector<std::pair<std::int64_t, std::int32_t>> takeTouchedSessions();
  PipelineRole role() const { return config_.role; }

  const DataTree& tree() const { return tree_; }
  // Writes refused by an enforced quota, by namespace; empty when quotas are not enforced.
  std::map<std::string, std::int64_t, std::less<>> quotaRefusals() const {
    return quotaGuard_ ? quotaGuard_->refusedByNamespace()
                       : std::map<std::string, std::int64_t, std::less<>>{};
  }
  const WatchManager& watches() const { return watches_; }
  WatchManager& watches() { return watches_; }
  const SessionTracker& sessions() const { return sessions_; }
  std::int64_t lastZxid() const { return tree_.lastProcessedZxid(); }
  std::size_t outstandingRequests() const { return outstanding_; }
  std::size_t pendingTxns() const { return inflight_.size(); }
  // The oldest txn prepared here and not yet applied; 0 when none.
  std::int64_t firstPendingZxid() const {
    return inflight_.empty() ? 0 : inflight_.front().txn.header.zxid;
  }
  const ProcessorStats& stats() const { return stats_; }
  void resetStats() { stats_ = {}; }

 private:
  // kSync: a learner's forwarded sync, ready when the leader answers it.
  enum class Kind { kRead, kWrite, kBarrier, kSync };
  struct Pending {
    std::weak_ptr<ClientChannel> channel;
    std::int32_t xid = 0;
    std::int32_t op = 0;
    Kind kind = Kind::kRead;
    std::string payload;    // a deferred read's request body
    std::int64_t zxid = 0;  // write: its txn; barrier: what must be applied first
    bool ready = false;
    std::int32_t establishTimeoutMs = 0;  // a new session's connect response
    std::string frame;
    std::int64_t startedMs = 0;
  };
  struct Client {
    std::weak_ptr<ClientChannel> channel;
    std::vector<Id> authIds;
    std::deque<Pending> queue;
    // Learner: commits at or below this zxid were requested over earlier connections.
    std::int64_t matchAfterZxid = 0;
  };
  // Learner: a reconnecting client waiting for the leader's REVALIDATE answer.
  struct AwaitingRevalidation {
    std::weak_ptr<ClientChannel> channel;
    bool readOnlyByte = false;
    std::int64_t deadlineMs = 0;
  };
  struct InFlight {
    Txn txn;
    std::int32_t requestOp = 0;
    bool fromClient = false;
  };

  void handleAuth(const std::shared_ptr<ClientChannel>& channel, Client& client,
                  std::span<const std::uint8_t> body);
  bool authenticatedEnough(const Client& client) const;
  void enqueueRead(Client& client, Pending pending);
  void submitWrite(std::int64_t sessionId, Client* client, Pending pending,
                   std::span<const std::uint8_t> body);
  Txn prepareOrFailure(const TxnHeader& header, const Pending& pending,
                       std::span<const std::uint8_t> body, Client* client);
  Txn prepareTxn(const TxnHeader& header, const Pending& pending,
                 std::span<const std::uint8_t> body, Client* client);
  Txn prepareMulti(std::int64_t sessionId, std::span<const std::uint8_t> body, Client* client,
                   const TxnHeader& header);
  Txn prepareClose(std::int64_t sessionId, const TxnHeader& header);
  // The newest txn prepared here, or the tree's last one when none is in flight: what a barrier
  // (a sync, a failed write's answer) must wait for.
  std::int64_t lastLoggedZxid() const;
  void log(Txn txn, std::int32_t requestOp, bool fromClient);
  void addBarrier(std::int64_t sessionId, Client& client, Pending pending, std::string frame);

  void applyOne(InFlight entry);
  void finishSessionChange(const InFlight& entry);
  std::string responseBody(std::int32_t requestOp, const ApplyResult& result) const;
  void deliver(const std::vector<WatchTrigger>& triggers);
  void drain(std::int64_t sessionId);
  std::string runRead(std::int64_t sessionId, Client& client, std::int32_t xid, std::int32_t op,
                      std::span<const std::uint8_t> body);
  void send(std::int64_t sessionId, Pending& pending);
  void closeSessionNow(std::int64_t sessionId, std::string_view reason);
  Client& establishExisting(const std::shared_ptr<ClientChannel>& channel, std::int64_t sessionId,
                            bool readOnlyByte);
  // Session moves (request_processor_quorum.cpp).
  void awaitRevalidation(const std::shared_ptr<ClientChannel>& channel,
                         const ConnectRequest& request);
  void dropStaleRequests(std::int64_t sessionId, Client& client,
                         const std::shared_ptr<ClientChannel>& current);
  void expireRevalidations(std::int64_t nowMs);
  bool claimOwnership(std::int64_t sessionId, std::int64_t memberSid);
  // Read-only role (request_processor_readonly.cpp).
  void readOnlyConnect(const std::shared_ptr<ClientChannel>& channel, const ConnectRequest& request,
                       std::int32_t timeout);
  bool refusedAsReadOnly(const std::shared_ptr<ClientChannel>& channel, std::int64_t sessionId,
                         Client& client, Pending& pending);
  void expireReadOnlySessions(std::int64_t now);
  void reapContainers(std::int64_t nowMs);
  Client* findClient(std::int64_t sessionId);
  void touch(std::int64_t sessionId);
  void forwardToLeader(std::int64_t sessionId, Client& client, Pending pending,
                       std::span<const std::uint8_t> body);
  void remoteCreateSession(std::int64_t learnerSid, const TxnHeader& header,
                           std::span<const std::uint8_t> body);
  void releaseRemoteSyncs(std::int64_t appliedZxid);

  ProcessorConfig config_;
  DataTree& tree_;
  TxnSink& sink_;
  Clock clock_;
  WatchManager watches_;
  SessionTracker sessions_;
  ChangeOverlay overlay_;
  std::optional<QuotaGuard> quotaGuard_;
  std::unordered_map<std::int64_t, Client> clients_;
  std::deque<InFlight> inflight_;
  std::multimap<std::int64_t, std::int64_t> barrierWaiters_;  // zxid -> session
  std::size_t outstanding_ = 0;
  std::int64_t nextReapMs_ = 0;
  std::string writesRefused_;
  ProcessorStats stats_;
  PipelineLinks links_;
  std::deque<std::int64_t> forwardedSyncs_;                      // learner: sessions, oldest first
  std::multimap<std::int64_t, std::int64_t> remoteSyncWaiters_;  // leader: zxid -> learner sid
  std::unordered_map<std::int64_t, std::int32_t> touched_;       // learner: since the last ping
  std::unordered_map<std::int64_t, AwaitingRevalidation> revalidating_;  // learner
  std::unordered_map<std::int64_t, std::int64_t> owners_;  // leader: session -> member serving it
};

}  // namespace zk

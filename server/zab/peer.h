#pragma once
// One ensemble member's Zab state machine (election, discovery, synchronisation, broadcast) with
// no sockets, threads, clocks or disk inside. Inputs are method calls; outputs are Actions the
// caller drains with takeActions() and executes strictly in order. See docs/zab.md.

#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "zab/election.h"
#include "zab/packets.h"
#include "zab/quorum.h"

namespace zk::zab {

struct LoggedTxn {
  std::int64_t zxid = 0;
  std::string bytes;  // the txn as zk::encodeTxn writes it; opaque here
  bool operator==(const LoggedTxn&) const = default;
};

// The configuration a reconfig txn proposes, as the adapter reads it from the txn.
struct ConfigInfo {
  Members members;   // as activate() would be given it
  std::string data;  // its text as setConfigData takes it; "" when unknown
};

struct PeerConfig {
  std::int64_t mySid = 0;
  Members members;                 // the active (last committed) configuration
  std::int64_t configVersion = 0;  // its version: the zxid of the reconfig that made it, or 0
  std::string configData;          // its text, as setConfigData takes it
  // Recognises a reconfig txn and reads its configuration (nullopt for any other txn). With it,
  // a reconfig that is logged but not committed (in the loaded log, a PROPOSAL, a sync) is
  // ZooKeeper's "last seen" configuration: elections, the epoch and NEWLEADER need a quorum of
  // it as well as of the active one until it commits. Without it only the leader's own
  // proposeReconfig is known.
  std::function<std::optional<ConfigInfo>(const std::string& txnBytes)> reconfigOf;
  // The text of a configuration (as setConfigData takes it) at another version. With it, a
  // leader gives an unversioned configuration the zxid of the epoch that establishes it
  // (ZooKeeper's ZOOKEEPER-1783), so that it wins over the partial views joiners start from.
  std::function<std::string(const std::string& data, std::int64_t version)> withVersion;
  std::int64_t tickTimeMs = 2000;
  std::int64_t initLimit = 10;
  std::int64_t syncLimit = 5;
  std::size_t commitLogCount = 500;  // committed txns kept in memory to DIFF learners from
  std::int64_t finalizeWaitMs = 200;
  std::int64_t maxNotificationIntervalMs = 60000;
  std::int64_t connectRetryMs = 1000;
  int connectAttempts = 5;
  // The zxid counter value a leader never proposes: reaching it ends the epoch, as ZooKeeper's
  // leader steps down at 0xffffffff. Simulators and tests lower it to reach that point.
  std::uint32_t zxidCounterLimit = 0xffffffffu;
};

// What the disk adapter loads at start.
struct PersistedState {
  std::int64_t acceptedEpoch = 0;
  std::int64_t currentEpoch = 0;
  std::int64_t logStartZxid = 0;  // the zxid the retained log follows (snapshot or older txn)
  std::vector<LoggedTxn> log;     // logged txns > logStartZxid, ascending: at least all txns after
                                  // appliedZxid plus up to commitLogCount before it
  std::int64_t appliedZxid = 0;   // what the caller's state (tree) already reflects
};

namespace act {
struct SendVote {
  std::int64_t to;
  Notification vote;
};
struct SendPacket {
  std::int64_t to;
  QuorumPacket packet;
};
// Leader: send a SNAP packet with this zxid followed by the serialized state, which must reflect
// every txn delivered through `zxid` (all earlier Deliver actions). It may be fuzzy, as
// ZooKeeper's: partly reflect later Delivers, which the learner replays idempotently (they are
// all sent after the snapshot).
struct SendSnapshot {
  std::int64_t to;
  std::int64_t zxid;
};
// Append to the txn log; call onPersisted once it is fsynced. Need not complete before later
// actions run.
struct PersistTxn {
  std::int64_t zxid;
  std::string bytes;
};
// Barrier: durable before any later action is executed.
struct PersistEpochs {
  std::int64_t acceptedEpoch;
  std::int64_t currentEpoch;
};
// Barrier: drop every logged txn > zxid. If the state already applied txns > zxid, reload it.
struct TruncateLog {
  std::int64_t zxid;
};
// Barrier: replace state and log with this snapshot (durable) before later actions.
struct LoadSnapshot {
  std::int64_t zxid;
  std::string bytes;  // the SNAP packet's data as the adapter's transport handed it on
};
// A committed txn, in zxid order: apply it to the tree.
struct Deliver {
  std::int64_t zxid;
  std::string bytes;
};
struct StateChanged {
  ServerState state;
  std::int64_t leader;  // -1 while looking
  std::int64_t epoch;   // the epoch being led or followed; 0 until known
  bool serving;         // in sync (UPTODATE seen / quorum of NEWLEADER acks): may serve clients
};
// Leader: a REQUEST a learner forwarded (data as ZooKeeper frames it: sessionId, cxid, type, body).
struct LearnerRequest {
  std::int64_t from;
  std::string data;
  std::vector<Id> authinfo;
};
// Leader: the session-touch payload of a learner's PING reply (sessionId long, timeout int)*.
struct SessionTouches {
  std::int64_t from;
  std::string data;
};
// A sync asked through requestSync (leader, forSid == me) or a SYNC packet from the leader
// (learner, forSid == leader) completed: the next read is as fresh as the leader was.
struct SyncDone {
  std::int64_t forSid;
};
// Learner: the configuration the leader sent with NEWLEADER (its text, as the adapter gave it to
// the leader's setConfigData). The adapter adopts it before anything else of this sync.
struct LeaderConfig {
  std::string data;
  // From an election notification rather than NEWLEADER: adopt it only if strictly newer.
  bool fromElection = false;
};
// A packet the core does not interpret (REVALIDATE) for the pipeline.
struct OtherPacket {
  std::int64_t from;
  QuorumPacket packet;
};
// Open a quorum connection to the leader; report onConnected or onDisconnected.
struct Connect {
  std::int64_t sid;
};
// Close the quorum connection with sid (no onDisconnected needed for it).
struct Disconnect {
  std::int64_t sid;
};
}  // namespace act

using Action =
    std::variant<act::SendVote, act::SendPacket, act::SendSnapshot, act::PersistTxn,
                 act::PersistEpochs, act::TruncateLog, act::LoadSnapshot, act::Deliver,
                 act::StateChanged, act::LearnerRequest, act::SessionTouches, act::SyncDone,
                 act::LeaderConfig, act::OtherPacket, act::Connect, act::Disconnect>;

class Peer {
 public:
  Peer(PeerConfig config, PersistedState persisted, std::int64_t nowMs);

  // --- inputs ---
  void tick(std::int64_t nowMs);
  void onVote(std::int64_t from, const Notification& n);
  void onPacket(std::int64_t from, const QuorumPacket& packet);
  void onConnected(std::int64_t sid);
  void onDisconnected(std::int64_t sid);
  // A SNAP's stream is moving on the link with `sid` (a leader's chunk was taken by the learner,
  // or a learner received more of it): the other side is alive though no packet is complete.
  void onSnapshotProgress(std::int64_t sid);
  // The election connection to `sid` came up or failed (the adapter's view of who is alive).
  void onReachable(std::int64_t sid, bool reachable);
  // Every logged txn with zxid <= `zxid` is durable.
  void onPersisted(std::int64_t zxid);

  // Leader, once serving: the zxid the next proposal gets (epoch<<32 | counter); nullopt when not
  // a serving leader. This is the ensemble's only source of zxids: the pipeline builds each txn
  // for the zxid it names, then propose() logs and sends it under that zxid. At the counter
  // limit propose() refuses and steps down instead (nullopt), as ZooKeeper's leader does.
  std::optional<std::int64_t> nextZxid() const;
  std::optional<std::int64_t> propose(std::string txnBytes);
  // Leader: propose a reconfig txn whose configuration is `next`. From this proposal on, a
  // commit needs a quorum of the current voters and of `next`'s voters (ZooKeeper's rule), until
  // it commits and `next` becomes active. One at a time: check reconfigInProgress() first.
  std::optional<std::int64_t> proposeReconfig(std::string txnBytes, Members next);
  // True while a reconfig is logged here but not committed (ours or one inherited in the log).
  bool reconfigInProgress() const { return !pending_.empty(); }
  // Leader: the voters of `next` that are in sync with us (ourselves included) form a quorum of
  // `next`, so a reconfig to it can commit.
  bool syncedQuorumOf(const Members& next) const;
  // A committed reconfig txn was delivered: switch to its configuration. Learners that are no
  // longer members are dropped; a member whose role changed or that was removed starts over
  // (a removed member then stays idle: it neither votes nor follows).
  // `version` is the reconfig's zxid; reconfigs logged at or below it stop being pending.
  void activate(const Members& next, std::int64_t version);
  std::int64_t configVersion() const { return configVersion_; }
  const Members& members() const { return quorum_.members(); }
  // The configuration as the adapter writes it (ZooKeeper: the QuorumVerifier's text); a leader
  // sends it with NEWLEADER so each learner knows the ensemble's view, not just its own.
  void setConfigData(std::string data) {
    election_.setConfigData(data);
    configData_ = std::move(data);
  }
  // Leader: answer a sync for `forSid` (a learner, or ourselves) once every txn proposed so far
  // is committed.
  void requestSync(std::int64_t forSid);
  // Learner, once serving: forward a client request to the leader.
  bool forwardRequest(std::string data, std::vector<Id> authinfo = {});
  // Learner: the session touches to report in the next PING reply (replaces earlier payload).
  void setPingPayload(std::string data) { pingPayload_ = std::move(data); }
  // Send a packet the core does not interpret (REVALIDATE) to the leader or to a learner.
  bool sendRaw(std::int64_t to, QuorumPacket packet);

  std::vector<Action> takeActions() { return std::exchange(actions_, {}); }

  // --- introspection ---
  ServerState state() const { return role_; }
  bool serving() const { return phase_ == Phase::Broadcast; }
  // ZooKeeper's zab state names: election, discovery, synchronization, broadcast.
  const char* phaseName() const;
  std::int64_t leader() const { return leader_; }
  std::int64_t epoch() const { return epoch_; }
  std::int64_t acceptedEpoch() const { return acceptedEpoch_; }
  std::int64_t currentEpoch() const { return currentEpoch_; }
  std::int64_t lastLoggedZxid() const { return lastLogged_; }
  std::int64_t committedZxid() const { return committed_; }
  std::int64_t appliedZxid() const { return applied_; }
  std::int64_t mySid() const { return config_.mySid; }
  // Leader: learners past NEWLEADER that are in sync, by role.
  std::size_t syncedFollowers() const;
  std::size_t syncedObservers() const;
  // Of the synced followers (all of them, as ZooKeeper counts), those that do not vote: joining
  // through a reconfig, or left by one.
  std::size_t syncedNonVotingFollowers() const;
  std::size_t learnerCount() const { return learners_.size(); }
  std::size_t pendingSyncs() const { return pendingSyncs_.size(); }
  std::int64_t electionClock() const { return election_.logicalClock(); }
  const Vote& electionVote() const { return election_.currentVote(); }

 private:
  enum class Phase { Looking, Discovery, Sync, Broadcast };
  enum class Stage { Info, EpochAcked, Synced, Acked, UpToDate };
  struct Learner {
    Role role = Role::Participant;
    Stage stage = Stage::Info;
    std::int64_t acceptedEpoch = 0;
    std::int64_t lastZxid = 0;
    std::int64_t lastHeard = 0;
  };
  struct Proposal {
    std::string bytes;
    std::set<std::int64_t> acks;
  };

  // common (peer.cpp)
  void emit(Action a) { actions_.push_back(std::move(a)); }
  void send(std::int64_t to, QuorumPacket p) { emit(act::SendPacket{to, std::move(p)}); }
  void flushElection();
  void goLooking();
  void announce(bool serving);
  void persistEpochs() { emit(act::PersistEpochs{acceptedEpoch_, currentEpoch_}); }
  void appendTxn(std::int64_t zxid, std::string bytes);
  void truncateTo(std::int64_t zxid);
  void deliverCommitted();
  void trimLog();
  std::deque<LoggedTxn>::const_iterator firstAfter(std::int64_t zxid) const;
  bool inLog(std::int64_t zxid) const;
  std::int64_t quorumTimeoutMs(std::int64_t limit) const { return limit * config_.tickTimeMs; }
  // reconfig bookkeeping (peer_config.cpp)
  void notePending(std::int64_t zxid, const std::string& bytes);
  void dropPendingAbove(std::int64_t zxid);
  void pendingChanged();
  bool quorumOfAll(const std::set<std::int64_t>& sids,
                   std::int64_t upTo = std::numeric_limits<std::int64_t>::max()) const;
  void activateCommittedConfigs();
  const std::string& newLeaderConfig() const;
  void versionUnversionedConfig();
  void activateEpochVersionedConfig();

  // leader (peer_leader.cpp)
  void becomeLeader();
  void leaderPacket(std::int64_t from, const QuorumPacket& p);
  void onLearnerInfo(std::int64_t from, const QuorumPacket& p);
  void tryDecideEpoch();
  void sendLeaderInfo(std::int64_t sid);
  void onAckEpoch(std::int64_t from, Learner& l, const QuorumPacket& p);
  void enterSync();
  void syncLearner(std::int64_t sid, Learner& l);
  void sendHistory(std::int64_t sid, std::int64_t after, std::int64_t through);
  void onLearnerAck(std::int64_t from, Learner& l, std::int64_t zxid);
  void checkEstablished();
  void tryCommit();
  bool commitQuorum(std::int64_t zxid, const std::set<std::int64_t>& acks) const;
  void sendCommit(std::int64_t zxid, const std::string& bytes);
  void answerSync(std::int64_t sid);
  void leaderTick();
  void stepDown();
  std::set<std::int64_t> selfAnd(std::set<std::int64_t> sids) const;

  // learner (peer_learner.cpp)
  void becomeLearner(const Vote& v);
  void learnerPacket(const QuorumPacket& p);
  void heardFromLeader();
  void learnerSyncPacket(const QuorumPacket& p);
  void learnerBroadcastPacket(const QuorumPacket& p);
  void onLeaderInfo(const QuorumPacket& p);
  void onNewLeader(const QuorumPacket& p);
  void onUpToDate();
  void maybeAckNewLeader();
  void flushAcks();
  void learnerTick();

  PeerConfig config_;
  Quorum quorum_;
  Election election_;
  std::vector<Action> actions_;
  std::int64_t now_ = 0;

  ServerState role_ = ServerState::Looking;
  Phase phase_ = Phase::Looking;
  std::int64_t leader_ = -1;
  std::int64_t epoch_ = 0;
  std::int64_t phaseDeadline_ = 0;

  // durable state as last written, and the log
  std::int64_t acceptedEpoch_ = 0;
  std::int64_t currentEpoch_ = 0;
  std::deque<LoggedTxn> log_;
  std::int64_t logStart_ = 0;
  std::int64_t lastLogged_ = 0;
  std::int64_t persisted_ = 0;
  std::int64_t committed_ = 0;
  std::int64_t applied_ = 0;

  // leader
  std::map<std::int64_t, Learner> learners_;
  bool epochDecided_ = false;
  std::set<std::int64_t> epochAcks_;
  std::set<std::int64_t> newLeaderAcks_;
  std::map<std::int64_t, Proposal> outstanding_;
  std::uint32_t counter_ = 0;
  std::int64_t nextPingAt_ = 0;
  std::deque<std::pair<std::int64_t, std::int64_t>> pendingSyncs_;  // (through zxid, sid)
  std::string configData_;

  // Reconfigs logged above the active configuration's version and not known to be committed,
  // by zxid (ZooKeeper keeps the newest as lastSeenQuorumVerifier).
  struct PendingConfig {
    Quorum quorum;
    std::string data;
  };
  std::map<std::int64_t, PendingConfig> pending_;
  std::int64_t configVersion_ = 0;

  // learner
  bool connected_ = false;
  int connectTries_ = 0;
  std::optional<std::int64_t> retryAt_;
  std::int64_t lastHeard_ = 0;
  std::int64_t syncPoint_ = 0;
  std::optional<std::int64_t> newLeaderZxid_;
  bool newLeaderAcked_ = false;
  std::string newLeaderConfig_;  // NEWLEADER's configuration, activated at UPTODATE
  std::string epochConfig_;      // leader: our unversioned configuration at this epoch's version
  std::deque<std::int64_t> toAck_;
  std::string pingPayload_;
};

}  // namespace zk::zab

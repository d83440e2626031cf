#include "zab/peer.h"

#include <algorithm>

namespace zk::zab {
namespace {

ElectionConfig electionConfig(const PeerConfig& c) {
  ElectionConfig e;
  e.mySid = c.mySid;
  e.members = c.members;
  e.finalizeWaitMs = c.finalizeWaitMs;
  e.minNotificationIntervalMs = c.finalizeWaitMs;
  e.maxNotificationIntervalMs = c.maxNotificationIntervalMs;
  return e;
}

}  // namespace

Peer::Peer(PeerConfig config, PersistedState persisted, std::int64_t nowMs)
    : config_(std::move(config)),
      quorum_(config_.members),
      election_(electionConfig(config_)),
      now_(nowMs),
      acceptedEpoch_(persisted.acceptedEpoch),
      currentEpoch_(persisted.currentEpoch),
      log_(std::make_move_iterator(persisted.log.begin()),
           std::make_move_iterator(persisted.log.end())),
      logStart_(persisted.logStartZxid) {
  lastLogged_ = log_.empty() ? logStart_ : log_.back().zxid;
  persisted_ = lastLogged_;  // what was loaded from disk is durable
  applied_ = std::max(persisted.appliedZxid, logStart_);
  committed_ = applied_;
  configVersion_ = config_.configVersion;
  // Before the first election: a single voter leads at once, and NEWLEADER carries this.
  setConfigData(config_.configData);
  // Even a txn the tree already applied may be an uncommitted reconfig: the adapter replays the
  // whole log at startup, so only the configuration's version says what is known committed.
  for (const auto& t : log_) notePending(t.zxid, t.bytes);
  goLooking();
}

void Peer::tick(std::int64_t nowMs) {
  now_ = std::max(now_, nowMs);
  switch (role_) {
    case ServerState::Looking:
      election_.tick(now_);
      flushElection();
      return;
    case ServerState::Leading:
      leaderTick();
      return;
    case ServerState::Following:
    case ServerState::Observing:
      learnerTick();
      return;
  }
}

void Peer::onVote(std::int64_t from, const Notification& n) {
  election_.onNotification(now_, from, n);
  for (auto& config : election_.takeSeenConfigs()) emit(act::LeaderConfig{std::move(config), true});
  flushElection();
}

void Peer::onReachable(std::int64_t sid, bool reachable) {
  election_.setReachable(sid, reachable);
  if (role_ == ServerState::Looking) {
    election_.tick(now_);
    flushElection();
  }
}

void Peer::flushElection() {
  for (auto& [to, n] : election_.takeOutgoing()) emit(act::SendVote{to, std::move(n)});
  if (auto decided = election_.takeDecision()) {
    if (decided->leader == config_.mySid) {
      becomeLeader();
    } else {
      becomeLearner(*decided);
    }
  }
}

void Peer::onPacket(std::int64_t from, const QuorumPacket& packet) {
  if (role_ == ServerState::Leading) {
    leaderPacket(from, packet);
  } else if ((role_ == ServerState::Following || role_ == ServerState::Observing) &&
             from == leader_ && connected_) {
    learnerPacket(packet);
  } else if (isType(packet, PacketType::FollowerInfo) || isType(packet, PacketType::ObserverInfo)) {
    emit(act::Disconnect{from});  // not leading: refuse, the learner retries or re-elects
  }
}

void Peer::onConnected(std::int64_t sid) {
  if (role_ == ServerState::Leading || sid != leader_ || connected_ || phase_ != Phase::Discovery)
    return;
  connected_ = true;
  retryAt_.reset();
  lastHeard_ = now_;
  LearnerInfo info{config_.mySid, 0x10000, 0};
  auto type = role_ == ServerState::Observing ? PacketType::ObserverInfo : PacketType::FollowerInfo;
  send(leader_, makePacket(type, acceptedEpoch_ << 32, encodeLearnerInfo(info)));
}

void Peer::onSnapshotProgress(std::int64_t sid) {
  if (role_ == ServerState::Leading) {
    if (auto it = learners_.find(sid); it != learners_.end()) it->second.lastHeard = now_;
  } else if (sid == leader_ && connected_) {
    heardFromLeader();
  }
}

void Peer::onDisconnected(std::int64_t sid) {
  if (role_ == ServerState::Leading) {
    learners_.erase(sid);
    return;
  }
  if (role_ == ServerState::Looking || sid != leader_) return;
  if (!connected_ && phase_ == Phase::Discovery && connectTries_ < config_.connectAttempts) {
    retryAt_ = now_ + config_.connectRetryMs;  // the leader may not be listening yet
    return;
  }
  goLooking();
}

void Peer::goLooking() {
  if (role_ == ServerState::Leading) {
    for (const auto& [sid, l] : learners_) emit(act::Disconnect{sid});
  } else if (role_ != ServerState::Looking && leader_ >= 0) {
    emit(act::Disconnect{leader_});
  }
  learners_.clear();
  outstanding_.clear();
  pendingSyncs_.clear();
  epochAcks_.clear();
  newLeaderAcks_.clear();
  epochDecided_ = false;
  connected_ = false;
  retryAt_.reset();
  newLeaderZxid_.reset();
  newLeaderConfig_.clear();
  epochConfig_.clear();
  toAck_.clear();
  role_ = ServerState::Looking;
  phase_ = Phase::Looking;
  leader_ = -1;
  epoch_ = 0;
  announce(false);
  election_.start(now_, lastLogged_, currentEpoch_);
  flushElection();
}

void Peer::announce(bool serving) {
  emit(act::StateChanged{role_, leader_, epoch_, serving});
}

void Peer::appendTxn(std::int64_t zxid, std::string bytes) {
  emit(act::PersistTxn{zxid, bytes});
  notePending(zxid, bytes);
  log_.push_back(LoggedTxn{zxid, std::move(bytes)});
  lastLogged_ = zxid;
}

void Peer::truncateTo(std::int64_t zxid) {
  emit(act::TruncateLog{zxid});
  while (!log_.empty() && log_.back().zxid > zxid) log_.pop_back();
  logStart_ = std::min(logStart_, zxid);
  lastLogged_ = log_.empty() ? logStart_ : log_.back().zxid;
  persisted_ = std::min(persisted_, lastLogged_);
  committed_ = std::min(committed_, lastLogged_);
  applied_ = std::min(applied_, lastLogged_);
  while (!toAck_.empty() && toAck_.back() > zxid) toAck_.pop_back();
  dropPendingAbove(zxid);
}

std::deque<LoggedTxn>::const_iterator Peer::firstAfter(std::int64_t zxid) const {
  return std::upper_bound(log_.begin(), log_.end(), zxid,
                          [](std::int64_t z, const LoggedTxn& t) { return z < t.zxid; });
}

bool Peer::inLog(std::int64_t zxid) const {
  auto it = std::lower_bound(log_.begin(), log_.end(), zxid,
                             [](const LoggedTxn& t, std::int64_t z) { return t.zxid < z; });
  return it != log_.end() && it->zxid == zxid;
}

void Peer::deliverCommitted() {
  for (auto it = firstAfter(applied_); it != log_.end() && it->zxid <= committed_; ++it) {
    emit(act::Deliver{it->zxid, it->bytes});
    applied_ = it->zxid;
  }
  trimLog();
}

void Peer::trimLog() {
  std::int64_t keepAfter = std::min(applied_, committed_);
  while (log_.size() > config_.commitLogCount && log_.front().zxid <= keepAfter) {
    logStart_ = log_.front().zxid;
    log_.pop_front();
  }
}

void Peer::onPersisted(std::int64_t zxid) {
  persisted_ = std::max(persisted_, std::min(zxid, lastLogged_));
  if (role_ == ServerState::Leading) {
    if (phase_ == Phase::Sync) checkEstablished();
    if (phase_ == Phase::Broadcast) tryCommit();
  } else if (role_ != ServerState::Looking) {
    maybeAckNewLeader();
    flushAcks();
  }
}

bool Peer::sendRaw(std::int64_t to, QuorumPacket packet) {
  bool leaderLink = role_ != ServerState::Leading && to == leader_ && connected_;
  bool learnerLink = role_ == ServerState::Leading && learners_.count(to) != 0;
  if (!leaderLink && !learnerLink) return false;
  send(to, std::move(packet));
  return true;
}

const char* Peer::phaseName() const {
  switch (phase_) {
    case Phase::Looking:
      return "election";
    case Phase::Discovery:
      return "discovery";
    case Phase::Sync:
      return "synchronization";
    case Phase::Broadcast:
      return "broadcast";
  }
  return "election";
}

}  // namespace zk::zab

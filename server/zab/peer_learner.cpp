// The learner's side (follower or observer): register with the leader, accept its epoch, take
// the sync it sends, then log, acknowledge and apply what it broadcasts.
#include "zab/peer.h"

namespace zk::zab {

void Peer::becomeLearner(const Vote& v) {
  role_ = v.state == ServerState::Observing ? ServerState::Observing : ServerState::Following;
  phase_ = Phase::Discovery;
  leader_ = v.leader;
  epoch_ = 0;
  connected_ = false;
  connectTries_ = 1;
  retryAt_.reset();
  phaseDeadline_ = now_ + quorumTimeoutMs(config_.initLimit);
  announce(false);
  emit(act::Connect{leader_});
}

void Peer::learnerTick() {
  if (retryAt_ && now_ >= *retryAt_) {
    retryAt_.reset();
    ++connectTries_;
    emit(act::Connect{leader_});
  }
  bool silent = now_ - lastHeard_ > quorumTimeoutMs(config_.syncLimit);
  bool tooSlow = phase_ != Phase::Broadcast && now_ >= phaseDeadline_;
  if (tooSlow || (phase_ == Phase::Broadcast && silent)) goLooking();
}

void Peer::learnerPacket(const QuorumPacket& p) {
  heardFromLeader();
  switch (static_cast<PacketType>(p.type)) {
    case PacketType::LeaderInfo:
      onLeaderInfo(p);
      return;
    case PacketType::Ping:
      send(leader_, makePacket(PacketType::Ping, p.zxid, std::exchange(pingPayload_, {})));
      return;
    case PacketType::Sync:
      emit(act::SyncDone{leader_});
      return;
    case PacketType::Revalidate:
      emit(act::OtherPacket{leader_, p});
      return;
    default:
      break;
  }
  if (phase_ == Phase::Sync) {
    learnerSyncPacket(p);
  } else if (phase_ == Phase::Broadcast) {
    learnerBroadcastPacket(p);
  }
}

// As ZooKeeper's learner, whose reads time out after initLimit ticks of silence: a sync that
// keeps moving (a large SNAP, the leader's pings while we load it) is not cut at initLimit.
void Peer::heardFromLeader() {
  lastHeard_ = now_;
  if (phase_ == Phase::Sync)
    phaseDeadline_ = std::max(phaseDeadline_, now_ + quorumTimeoutMs(config_.initLimit));
}

void Peer::onLeaderInfo(const QuorumPacket& p) {
  if (phase_ != Phase::Discovery) return;
  std::int64_t newEpoch = p.zxid >> 32;
  std::int32_t ourEpoch = -1;
  if (newEpoch > acceptedEpoch_) {
    acceptedEpoch_ = newEpoch;
    persistEpochs();
    ourEpoch = static_cast<std::int32_t>(currentEpoch_);
  } else if (newEpoch < acceptedEpoch_) {
    goLooking();  // we promised a later epoch to someone else
    return;
  }
  epoch_ = newEpoch;
  election_.settleEpoch(epoch_);
  phase_ = Phase::Sync;
  syncPoint_ = 0;
  newLeaderZxid_.reset();
  newLeaderAcked_ = false;
  newLeaderConfig_.clear();
  toAck_.clear();
  announce(false);
  send(leader_, makePacket(PacketType::AckEpoch, lastLogged_, encodeInt(ourEpoch)));
}

void Peer::learnerSyncPacket(const QuorumPacket& p) {
  switch (static_cast<PacketType>(p.type)) {
    case PacketType::Diff:
      syncPoint_ = std::max(syncPoint_, std::min(p.zxid, lastLogged_));
      return;
    case PacketType::Trunc:
      truncateTo(p.zxid);
      syncPoint_ = std::max(syncPoint_, lastLogged_);
      return;
    case PacketType::Snap:
      emit(act::LoadSnapshot{p.zxid, p.data});
      log_.clear();
      toAck_.clear();
      pending_.clear();  // the snapshot is committed; the adapter adopts its configuration
      pendingChanged();
      logStart_ = lastLogged_ = persisted_ = committed_ = applied_ = p.zxid;
      syncPoint_ = p.zxid;
      return;
    case PacketType::Proposal:
      if (p.zxid <= lastLogged_) break;
      appendTxn(p.zxid, p.data);
      toAck_.push_back(p.zxid);
      return;
    case PacketType::Commit:
    case PacketType::CommitAndActivate:  // a reconfig that committed while we were syncing
      if (!inLog(p.zxid)) break;
      syncPoint_ = std::max(syncPoint_, p.zxid);
      return;
    case PacketType::Inform:
    case PacketType::InformAndActivate: {
      bool activating = isType(p, PacketType::InformAndActivate);
      if (p.zxid <= lastLogged_ || (activating && p.data.size() < 8)) break;
      appendTxn(p.zxid, activating ? p.data.substr(8) : p.data);
      syncPoint_ = p.zxid;
      return;
    }
    case PacketType::NewLeader:
      onNewLeader(p);
      return;
    case PacketType::UpToDate:
      onUpToDate();
      return;
    default:
      return;
  }
  goLooking();  // the leader sent something inconsistent with our log: start over
}

void Peer::onNewLeader(const QuorumPacket& p) {
  if (p.zxid != (epoch_ << 32) || newLeaderZxid_) {
    goLooking();
    return;
  }
  // ZooKeeper's learner keeps it as last seen and activates it at UPTODATE: until the leader has
  // its quorums, the configuration it sends (its newest, maybe a pending reconfig) is a proposal.
  newLeaderConfig_ = p.data;
  newLeaderZxid_ = p.zxid;
  // Everything past the committed point may be a proposal the leader still counts acks for,
  // including txns logged under an earlier connection: acknowledge them (again) once durable.
  toAck_.clear();
  if (role_ == ServerState::Following) {
    for (auto it = firstAfter(syncPoint_); it != log_.end(); ++it) toAck_.push_back(it->zxid);
  }
  maybeAckNewLeader();
}

// Acknowledging NEWLEADER promises the whole synced history is on disk under the new epoch.
// currentEpoch is written only once that history is durable: a member whose currentEpoch says
// "synced with epoch E" but whose log lost E's tail in a crash would win the next election on
// its epoch and truncate committed txns on the others (the simulator found this; ZooKeeper
// fixed the same order in ZOOKEEPER-4394).
void Peer::maybeAckNewLeader() {
  if (!newLeaderZxid_ || newLeaderAcked_ || persisted_ < lastLogged_) return;
  currentEpoch_ = epoch_;
  persistEpochs();
  send(leader_, makePacket(PacketType::Ack, *newLeaderZxid_));
  newLeaderAcked_ = true;
  flushAcks();
}

void Peer::flushAcks() {
  if (!newLeaderAcked_ || role_ != ServerState::Following) {
    if (role_ == ServerState::Observing) toAck_.clear();
    return;
  }
  while (!toAck_.empty() && toAck_.front() <= persisted_) {
    send(leader_, makePacket(PacketType::Ack, toAck_.front()));
    toAck_.pop_front();
  }
}

void Peer::onUpToDate() {
  if (!newLeaderAcked_) {
    goLooking();
    return;
  }
  phase_ = Phase::Broadcast;
  committed_ = std::max(committed_, std::min(syncPoint_, lastLogged_));
  deliverCommitted();
  send(leader_, makePacket(PacketType::Ack, *newLeaderZxid_));
  announce(true);
  // The leader's history is committed now, reconfigs in it included.
  activateCommittedConfigs();
  if (!newLeaderConfig_.empty()) emit(act::LeaderConfig{std::exchange(newLeaderConfig_, {})});
}

void Peer::learnerBroadcastPacket(const QuorumPacket& p) {
  switch (static_cast<PacketType>(p.type)) {
    case PacketType::Proposal:
      if (p.zxid <= lastLogged_ || role_ != ServerState::Following) break;
      appendTxn(p.zxid, p.data);
      toAck_.push_back(p.zxid);
      flushAcks();
      return;
    case PacketType::Commit:
    case PacketType::CommitAndActivate:  // the adapter activates as it delivers the reconfig
      if (!inLog(p.zxid)) break;
      committed_ = std::max(committed_, p.zxid);
      deliverCommitted();
      activateCommittedConfigs();
      return;
    case PacketType::Inform:
      if (p.zxid <= lastLogged_) break;
      appendTxn(p.zxid, p.data);
      committed_ = p.zxid;
      deliverCommitted();
      activateCommittedConfigs();
      return;
    case PacketType::InformAndActivate:  // long designated leader, then the txn
      if (p.zxid <= lastLogged_ || p.data.size() < 8) break;
      appendTxn(p.zxid, p.data.substr(8));
      committed_ = p.zxid;
      deliverCommitted();
      activateCommittedConfigs();
      return;
    default:
      return;
  }
  goLooking();
}

bool Peer::forwardRequest(std::string data, std::vector<Id> authinfo) {
  if (role_ == ServerState::Leading || role_ == ServerState::Looking || !connected_ ||
      phase_ != Phase::Broadcast) {
    return false;
  }
  QuorumPacket p = makePacket(PacketType::Request, -1, std::move(data));
  p.authinfo = std::move(authinfo);
  send(leader_, std::move(p));
  return true;
}

}  // namespace zk::zab

// The leader's side of Zab: discovery (agree a new epoch with a quorum), synchronisation (bring
// each learner to the leader's history, then NEWLEADER) and broadcast (propose, ack, commit).
#include <algorithm>

#include "zab/peer.h"

namespace zk::zab {
namespace {

constexpr std::int32_t kProtocolVersion = 0x10000;

}  // namespace

std::set<std::int64_t> Peer::selfAnd(std::set<std::int64_t> sids) const {
  sids.insert(config_.mySid);
  return sids;
}

void Peer::becomeLeader() {
  role_ = ServerState::Leading;
  phase_ = Phase::Discovery;
  leader_ = config_.mySid;
  epoch_ = 0;
  phaseDeadline_ = now_ + quorumTimeoutMs(config_.initLimit);
  announce(false);
  tryDecideEpoch();
}

void Peer::leaderPacket(std::int64_t from, const QuorumPacket& p) {
  if (isType(p, PacketType::FollowerInfo) || isType(p, PacketType::ObserverInfo)) {
    onLearnerInfo(from, p);
    return;
  }
  auto it = learners_.find(from);
  if (it == learners_.end()) return;
  Learner& l = it->second;
  l.lastHeard = now_;
  switch (static_cast<PacketType>(p.type)) {
    case PacketType::AckEpoch:
      onAckEpoch(from, l, p);
      return;
    case PacketType::Ack:
      onLearnerAck(from, l, p.zxid);
      return;
    case PacketType::Ping:
      if (!p.data.empty()) emit(act::SessionTouches{from, p.data});
      return;
    case PacketType::Request:
      if (l.stage >= Stage::Synced) emit(act::LearnerRequest{from, p.data, p.authinfo});
      return;
    case PacketType::Revalidate:
      emit(act::OtherPacket{from, p});
      return;
    default:
      return;
  }
}

void Peer::onLearnerInfo(std::int64_t from, const QuorumPacket& p) {
  auto info = decodeLearnerInfo(p.data);
  if (!info || info->serverId != from) {
    emit(act::Disconnect{from});
    return;
  }
  Learner l;
  // A server not in our configuration may be joining through a reconfig: it syncs and follows
  // (a non-voting follower, or an observer), and its acks count only toward the new config.
  if (quorum_.isMember(from)) {
    l.role = quorum_.isVoter(from) ? Role::Participant : Role::Observer;
  } else {
    l.role = isType(p, PacketType::FollowerInfo) ? Role::Participant : Role::Observer;
  }
  l.acceptedEpoch = p.zxid >> 32;
  l.lastHeard = now_;
  if (epochDecided_ && l.acceptedEpoch > epoch_) {
    // It promised a later epoch to a leader that never got established, so it can never follow
    // ours: only a new election, whose epoch will exceed every promise, lets it back in.
    stepDown();
    return;
  }
  learners_[from] = l;  // a new connection from a known learner starts over
  if (epochDecided_) {
    sendLeaderInfo(from);
  } else {
    tryDecideEpoch();
  }
}

void Peer::tryDecideEpoch() {
  std::set<std::int64_t> connecting;
  std::int64_t maxAccepted = acceptedEpoch_;
  for (const auto& [sid, l] : learners_) {
    connecting.insert(sid);
    maxAccepted = std::max(maxAccepted, l.acceptedEpoch);
  }
  if (!quorumOfAll(selfAnd(connecting))) return;
  epochDecided_ = true;
  epoch_ = maxAccepted + 1;
  election_.settleEpoch(epoch_);
  acceptedEpoch_ = epoch_;
  persistEpochs();
  announce(false);
  for (const auto& [sid, l] : learners_) sendLeaderInfo(sid);
  // Alone in the quorum (a single voter), the epoch is acknowledged by ourselves alone.
  if (quorumOfAll(selfAnd(epochAcks_))) enterSync();
}

void Peer::sendLeaderInfo(std::int64_t sid) {
  send(sid, makePacket(PacketType::LeaderInfo, epoch_ << 32, encodeInt(kProtocolVersion)));
}

void Peer::onAckEpoch(std::int64_t from, Learner& l, const QuorumPacket& p) {
  auto theirEpoch = decodeInt(p.data);
  if (l.stage != Stage::Info || !theirEpoch) return;
  l.stage = Stage::EpochAcked;
  l.lastZxid = p.zxid;
  if (phase_ != Phase::Discovery) {
    syncLearner(from, l);
    return;
  }
  // -1: it already accepted this epoch from someone; it cannot vouch for it a second time.
  if (*theirEpoch == -1) return;
  if (*theirEpoch > currentEpoch_ || (*theirEpoch == currentEpoch_ && p.zxid > lastLogged_)) {
    stepDown();  // a follower knows more than we do: we must not lead
    return;
  }
  if (l.role == Role::Participant) epochAcks_.insert(from);
  if (quorumOfAll(selfAnd(epochAcks_))) enterSync();
}

void Peer::enterSync() {
  phase_ = Phase::Sync;
  versionUnversionedConfig();
  phaseDeadline_ = now_ + quorumTimeoutMs(config_.initLimit);
  for (auto& [sid, l] : learners_) {
    if (l.stage == Stage::EpochAcked) syncLearner(sid, l);
  }
  checkEstablished();
}

void Peer::sendHistory(std::int64_t sid, std::int64_t after, std::int64_t through) {
  for (auto it = firstAfter(after); it != log_.end() && it->zxid <= through; ++it) {
    send(sid, makePacket(PacketType::Proposal, it->zxid, it->bytes));
    send(sid, makePacket(PacketType::Commit, it->zxid));
  }
}

// LearnerHandler.syncFollower: DIFF when the learner's last zxid is in our log, TRUNC of a
// tail we do not have, SNAP when it is older than the txns we keep in memory. A TRUNC target is
// always committed (ZooKeeper learners rely on it); proposals not yet committed follow as plain
// PROPOSALs and commit through the normal flow.
void Peer::syncLearner(std::int64_t sid, Learner& l) {
  std::int64_t history = phase_ == Phase::Broadcast ? committed_ : lastLogged_;
  std::int64_t p = l.lastZxid;
  std::int64_t has = p;  // the learner holds our log through here after the sync packets
  if (p == history || p == logStart_ || inLog(p)) {
    send(sid, makePacket(PacketType::Diff, history));
    sendHistory(sid, p, history);
  } else if (p > logStart_) {
    auto it = firstAfter(p);  // entries > p; the one before is the last we share
    has = std::min(history, it == log_.begin() ? logStart_ : std::prev(it)->zxid);
    send(sid, makePacket(PacketType::Trunc, has));
    sendHistory(sid, has, history);
  } else {
    has = applied_;
    emit(act::SendSnapshot{sid, applied_});
    sendHistory(sid, applied_, history);
  }
  has = std::max(has, history);
  if (l.role == Role::Participant) {
    for (auto it = outstanding_.upper_bound(has); it != outstanding_.end(); ++it) {
      send(sid, makePacket(PacketType::Proposal, it->first, it->second.bytes));
    }
  }
  send(sid, makePacket(PacketType::NewLeader, epoch_ << 32, newLeaderConfig()));
  l.stage = Stage::Synced;
}

void Peer::onLearnerAck(std::int64_t from, Learner& l, std::int64_t zxid) {
  if (zxid == (epoch_ << 32)) {
    if (l.stage != Stage::Synced) return;  // the ACK after UPTODATE carries the same zxid
    l.stage = Stage::Acked;
    if (phase_ == Phase::Sync) {
      if (l.role == Role::Participant) newLeaderAcks_.insert(from);
      checkEstablished();
    } else if (phase_ == Phase::Broadcast) {
      send(from, makePacket(PacketType::UpToDate, -1));
      l.stage = Stage::UpToDate;
    }
    return;
  }
  if (phase_ != Phase::Broadcast || l.stage < Stage::Acked || l.role != Role::Participant) return;
  auto it = outstanding_.find(zxid);
  if (it == outstanding_.end()) return;
  it->second.acks.insert(from);
  tryCommit();
}

void Peer::checkEstablished() {
  if (phase_ != Phase::Sync) return;
  auto acks = newLeaderAcks_;
  // As for a learner's NEWLEADER ack: the new epoch goes to disk only after our log has.
  if (persisted_ >= lastLogged_) {
    if (currentEpoch_ != epoch_) {
      currentEpoch_ = epoch_;
      persistEpochs();
    }
    acks.insert(config_.mySid);
  }
  // A quorum of every configuration in our history: an inherited reconfig commits with it.
  if (!quorumOfAll(acks)) return;
  phase_ = Phase::Broadcast;
  committed_ = lastLogged_;
  deliverCommitted();
  counter_ = 0;
  nextPingAt_ = now_;
  for (auto& [sid, l] : learners_) {
    l.lastHeard = now_;
    if (l.stage == Stage::Acked) {
      send(sid, makePacket(PacketType::UpToDate, -1));
      l.stage = Stage::UpToDate;
    }
  }
  announce(true);
  activateCommittedConfigs();
  activateEpochVersionedConfig();
}

std::optional<std::int64_t> Peer::nextZxid() const {
  if (role_ != ServerState::Leading || phase_ != Phase::Broadcast) return std::nullopt;
  return (epoch_ << 32) | static_cast<std::int64_t>(counter_ + 1);
}

std::optional<std::int64_t> Peer::propose(std::string txnBytes) {
  auto zxid = nextZxid();
  if (!zxid) return std::nullopt;
  if (counter_ + 1 >= config_.zxidCounterLimit) {
    // As ZooKeeper's Leader.propose: the counter has rolled over, and only a new epoch gives
    // fresh zxids (ZOOKEEPER-1277). The txn is not proposed; its client hears of the loss.
    stepDown();
    return std::nullopt;
  }
  ++counter_;
  appendTxn(*zxid, txnBytes);
  for (const auto& [sid, l] : learners_) {
    if (l.role == Role::Participant && l.stage >= Stage::Synced) {
      send(sid, makePacket(PacketType::Proposal, *zxid, txnBytes));
    }
  }
  outstanding_[*zxid] = Proposal{std::move(txnBytes), {}};
  return zxid;
}

std::optional<std::int64_t> Peer::proposeReconfig(std::string txnBytes, Members next) {
  if (reconfigInProgress()) return std::nullopt;
  auto zxid = propose(std::move(txnBytes));
  if (!zxid) return zxid;
  // reconfigOf (if the adapter gave one) knows the text; `next` is authoritative for members.
  auto& pending = pending_.try_emplace(*zxid, PendingConfig{Quorum(next), ""}).first->second;
  pending.quorum = Quorum(std::move(next));
  pendingChanged();
  return zxid;
}

bool Peer::syncedQuorumOf(const Members& next) const {
  std::set<std::int64_t> synced{config_.mySid};
  for (const auto& [sid, l] : learners_)
    if (l.stage >= Stage::Acked && l.role == Role::Participant) synced.insert(sid);
  return Quorum(next).isQuorum(synced);
}

bool Peer::commitQuorum(std::int64_t zxid, const std::set<std::int64_t>& acks) const {
  return quorumOfAll(acks, zxid);
}

void Peer::sendCommit(std::int64_t zxid, const std::string& bytes) {
  // ZooKeeper's activating variants carry the designated leader: we stay leader if we can.
  bool activating = pending_.contains(zxid);
  for (const auto& [sid, l] : learners_) {
    if (l.stage < Stage::Synced) continue;
    if (!activating) {
      send(sid, l.role == Role::Participant ? makePacket(PacketType::Commit, zxid)
                                            : makePacket(PacketType::Inform, zxid, bytes));
    } else if (l.role == Role::Participant) {
      send(sid, makePacket(PacketType::CommitAndActivate, zxid, encodeLong(config_.mySid)));
    } else {
      send(sid, makePacket(PacketType::InformAndActivate, zxid, encodeLong(config_.mySid) + bytes));
    }
  }
}

// Commits strictly in zxid order: a later proposal with a quorum waits for earlier ones.
void Peer::tryCommit() {
  while (!outstanding_.empty()) {
    auto it = outstanding_.begin();
    auto acks = it->second.acks;
    if (persisted_ >= it->first) acks.insert(config_.mySid);
    if (!commitQuorum(it->first, acks)) break;
    std::int64_t zxid = it->first;
    sendCommit(zxid, it->second.bytes);
    committed_ = zxid;
    outstanding_.erase(it);
    deliverCommitted();
    if (pending_.contains(zxid)) {
      activateCommittedConfigs();
      if (role_ != ServerState::Leading) return;  // we left the voters: someone else leads
    }
  }
  while (!pendingSyncs_.empty() && pendingSyncs_.front().first <= committed_) {
    answerSync(pendingSyncs_.front().second);
    pendingSyncs_.pop_front();
  }
}

void Peer::requestSync(std::int64_t forSid) {
  if (role_ != ServerState::Leading || phase_ != Phase::Broadcast) return;
  if (outstanding_.empty()) {
    answerSync(forSid);
  } else {
    pendingSyncs_.emplace_back(outstanding_.rbegin()->first, forSid);
  }
}

void Peer::answerSync(std::int64_t sid) {
  if (sid == config_.mySid) {
    emit(act::SyncDone{sid});
  } else if (learners_.count(sid)) {
    send(sid, makePacket(PacketType::Sync, 0));
  }
}

void Peer::leaderTick() {
  if (phase_ != Phase::Broadcast) {
    if (now_ >= phaseDeadline_) stepDown();  // initLimit passed without an established quorum
    return;
  }
  if (now_ < nextPingAt_) return;
  nextPingAt_ = now_ + config_.tickTimeMs / 2;
  std::int64_t syncWindow = quorumTimeoutMs(config_.syncLimit);
  std::int64_t initWindow = quorumTimeoutMs(config_.initLimit);
  std::set<std::int64_t> synced;
  std::vector<std::int64_t> silent;
  for (const auto& [sid, l] : learners_) {
    bool handshaking = l.stage < Stage::Synced;
    if (now_ - l.lastHeard > (handshaking ? initWindow : syncWindow)) {
      silent.push_back(sid);
      continue;
    }
    if (!handshaking) send(sid, makePacket(PacketType::Ping, lastLogged_));
    if (l.stage >= Stage::Acked) synced.insert(sid);
  }
  for (auto sid : silent) {
    emit(act::Disconnect{sid});
    learners_.erase(sid);
  }
  if (!quorumOfAll(selfAnd(synced))) stepDown();
}

void Peer::stepDown() {
  goLooking();
}

std::size_t Peer::syncedFollowers() const {
  return static_cast<std::size_t>(std::count_if(learners_.begin(), learners_.end(), [&](auto& e) {
    return e.second.role == Role::Participant && e.second.stage >= Stage::Acked;
  }));
}

std::size_t Peer::syncedNonVotingFollowers() const {
  return static_cast<std::size_t>(std::count_if(learners_.begin(), learners_.end(), [&](auto& e) {
    return e.second.role == Role::Participant && e.second.stage >= Stage::Acked &&
           !quorum_.isVoter(e.first);
  }));
}

std::size_t Peer::syncedObservers() const {
  return static_cast<std::size_t>(std::count_if(learners_.begin(), learners_.end(), [](auto& e) {
    return e.second.role == Role::Observer && e.second.stage >= Stage::Acked;
  }));
}

}  // namespace zk::zab

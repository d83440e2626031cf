// Reconfiguration: which configurations a decision needs a quorum of. A reconfig that is logged
// but not committed may already be active on members that saw it commit, so until it is known
// committed every election, epoch, NEWLEADER and commit needs a quorum of the active
// configuration AND of each such pending one (ZooKeeper's lastSeenQuorumVerifier). A new leader
// that inherits one commits it with its whole history once both quorums acknowledged NEWLEADER.
#include "zab/peer.h"

namespace zk::zab {
namespace {

// How a server takes part as a learner: observers observe; voters and non-voting members follow.
Role learnerKind(const Members& members, std::int64_t sid) {
  auto it = members.find(sid);
  return it != members.end() && it->second == Role::Observer ? Role::Observer : Role::Participant;
}

}  // namespace

void Peer::notePending(std::int64_t zxid, const std::string& bytes) {
  if (zxid <= configVersion_ || !config_.reconfigOf) return;
  auto info = config_.reconfigOf(bytes);
  if (!info) return;
  pending_.insert_or_assign(zxid, PendingConfig{Quorum(std::move(info->members)), info->data});
  pendingChanged();
}

void Peer::dropPendingAbove(std::int64_t zxid) {
  if (pending_.empty() || pending_.rbegin()->first <= zxid) return;
  pending_.erase(pending_.upper_bound(zxid), pending_.end());
  pendingChanged();
}

void Peer::pendingChanged() {
  std::vector<Members> configs;
  for (const auto& [zxid, p] : pending_) configs.push_back(p.quorum.members());
  election_.setPending(std::move(configs));
}

// A quorum of the active configuration and of every pending one logged at or below `upTo`.
bool Peer::quorumOfAll(const std::set<std::int64_t>& sids, std::int64_t upTo) const {
  if (!quorum_.isQuorum(sids)) return false;
  for (auto it = pending_.begin(); it != pending_.end() && it->first <= upTo; ++it) {
    if (!it->second.quorum.isQuorum(sids)) return false;
  }
  return true;
}

// Pending reconfigs at or below the commit point are committed: the newest of them becomes
// active. The adapter hears of it as a LeaderConfig, since the tree may have applied the txn
// before it was known committed (a log replayed at startup) and then no Deliver announces it.
void Peer::activateCommittedConfigs() {
  auto last = pending_.upper_bound(committed_);
  if (last == pending_.begin()) return;
  --last;
  std::int64_t version = last->first;
  Members next = last->second.quorum.members();
  if (!last->second.data.empty()) emit(act::LeaderConfig{last->second.data});
  activate(next, version);
}

// NEWLEADER carries the newest configuration of our history, as ZooKeeper's leader sends its
// last seen one: the learner activates it at UPTODATE, when that history is committed.
const std::string& Peer::newLeaderConfig() const {
  if (phase_ != Phase::Sync) return configData_;  // pending ones are not part of the sync then
  for (auto it = pending_.rbegin(); it != pending_.rend(); ++it) {
    if (!it->second.data.empty()) return it->second.data;
  }
  return epochConfig_.empty() ? configData_ : epochConfig_;
}

// ZOOKEEPER-1783: a configuration nobody versioned (a zoo.cfg without one) takes the zxid of the
// first epoch established on it. A joining server starts from its own, partial, unversioned view;
// once the ensemble's has a version, elections and syncs make the joiner take it. The versioned
// text travels in NEWLEADER, so learners activate it at UPTODATE, as the leader does once a
// quorum acknowledged it. A reconfig inherited in our history takes precedence: it has a version.
void Peer::versionUnversionedConfig() {
  epochConfig_.clear();
  if (configVersion_ != 0 || !pending_.empty() || !config_.withVersion || configData_.empty())
    return;
  epochConfig_ = config_.withVersion(configData_, epoch_ << 32);
}

void Peer::activateEpochVersionedConfig() {
  if (epochConfig_.empty() || configVersion_ != 0) return;
  emit(act::LeaderConfig{std::exchange(epochConfig_, {})});
  activate(quorum_.members(), epoch_ << 32);
}

void Peer::activate(const Members& next, std::int64_t version) {
  if (version > configVersion_) configVersion_ = version;
  if (!pending_.empty() && pending_.begin()->first <= configVersion_) {
    pending_.erase(pending_.begin(), pending_.upper_bound(configVersion_));
    pendingChanged();
  }
  if (next == quorum_.members()) return;
  Role before = learnerKind(quorum_.members(), config_.mySid);
  bool wasMember = quorum_.isMember(config_.mySid);
  config_.members = next;
  quorum_ = Quorum(next);
  election_.setMembers(next);
  bool isMember = quorum_.isMember(config_.mySid);
  Role now = learnerKind(next, config_.mySid);
  if (role_ == ServerState::Leading) {
    // Learners the new configuration leaves out follow on without a vote (as in ZooKeeper);
    // members whose role changed between observer and follower reconnect in their new role.
    std::vector<std::int64_t> gone;
    for (const auto& [sid, l] : learners_) {
      if (quorum_.isMember(sid) && learnerKind(next, sid) != l.role) gone.push_back(sid);
    }
    for (auto sid : gone) {
      emit(act::Disconnect{sid});
      learners_.erase(sid);
    }
    if (!quorum_.isVoter(config_.mySid)) goLooking();  // someone who votes must lead
    return;
  }
  if (!isMember || (wasMember && now != before)) goLooking();
}

}  // namespace zk::zab

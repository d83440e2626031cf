#include "zab/election.h"

#include <algorithm>
#include <limits>
#include <set>

namespace zk::zab {
namespace {

constexpr std::int64_t kNobody = std::numeric_limits<std::int64_t>::min();

// Vote.equals: a LOOKING vote must match exactly; announcements of a settled ensemble match on
// the leader and its epoch alone, since members joined at different rounds.
bool sameVote(const Vote& a, const Vote& b) {
  if (a.state == ServerState::Looking || b.state == ServerState::Looking) {
    return a.leader == b.leader && a.zxid == b.zxid && a.electionEpoch == b.electionEpoch &&
           a.peerEpoch == b.peerEpoch;
  }
  return a.leader == b.leader && a.peerEpoch == b.peerEpoch;
}

}  // namespace

bool voteBeats(const Quorum& quorum, std::int64_t newLeader, std::int64_t newZxid,
               std::int64_t newEpoch, std::int64_t curLeader, std::int64_t curZxid,
               std::int64_t curEpoch) {
  if (!quorum.isVoter(newLeader)) return false;
  if (newEpoch != curEpoch) return newEpoch > curEpoch;
  if (newZxid != curZxid) return newZxid > curZxid;
  return newLeader > curLeader;
}

Election::Election(ElectionConfig config)
    : config_(std::move(config)),
      quorum_(config_.members),
      voter_(quorum_.isVoter(config_.mySid)),
      member_(quorum_.isMember(config_.mySid)) {}

void Election::setReachable(std::int64_t sid, bool reachable) {
  if (reachable) {
    unreachable_.erase(sid);
  } else {
    unreachable_.insert(sid);
  }
}

bool Election::everyReachableVoterAgrees() const {
  if (unreachable_.contains(current_.leader)) return false;  // it would not take the lead
  for (auto sid : votersOfAll()) {
    if (unreachable_.contains(sid)) continue;
    auto it = received_.find(sid);
    if (it == received_.end() || !sameVote(it->second, current_)) return false;
  }
  return true;
}

void Election::setMembers(const Members& members) {
  config_.members = members;
  quorum_ = Quorum(members);
  voter_ = quorum_.isVoter(config_.mySid);
  member_ = quorum_.isMember(config_.mySid);
}

void Election::setPending(std::vector<Members> pending) {
  pending_.clear();
  for (auto& members : pending) pending_.emplace_back(std::move(members));
}

bool Election::isVoterOfAny(std::int64_t sid) const {
  if (quorum_.isVoter(sid)) return true;
  for (const auto& q : pending_) {
    if (q.isVoter(sid)) return true;
  }
  return false;
}

std::set<std::int64_t> Election::votersOfAll() const {
  std::set<std::int64_t> sids;
  for (const auto& [sid, role] : config_.members) {
    if (role == Role::Participant) sids.insert(sid);
  }
  for (const auto& q : pending_) {
    for (const auto& [sid, role] : q.members()) {
      if (role == Role::Participant) sids.insert(sid);
    }
  }
  return sids;
}

void Election::start(std::int64_t nowMs, std::int64_t lastZxid, std::int64_t currentEpoch) {
  state_ = ServerState::Looking;
  ++clock_;
  received_.clear();
  outOfElection_.clear();
  finalizeAt_.reset();
  decision_.reset();
  initZxid_ = voter_ ? lastZxid : kNobody;
  initEpoch_ = voter_ ? currentEpoch : kNobody;
  propose(voter_ ? config_.mySid : kNobody, initZxid_, initEpoch_);
  interval_ = config_.minNotificationIntervalMs;
  if (!member_) return;
  sendToAll(nowMs);
  // A single voter is a quorum by its own vote. No notification will ever arrive to end its
  // round (ZooKeeper delivers a server's notification to itself, which ends it there), so the
  // round ends here: at once when no other voter of any configuration could still answer.
  if (voter_ && agreed(received_, current_)) {
    finalizeAt_ = nowMs + config_.finalizeWaitMs;
    if (everyReachableVoterAgrees()) decide(current_);
  }
}

void Election::propose(std::int64_t leader, std::int64_t zxid, std::int64_t epoch) {
  current_ = Vote{leader, zxid, clock_, epoch, ServerState::Looking};
  if (voter_) received_[config_.mySid] = current_;
}

Notification Election::toNotification() const {
  Notification n;
  n.state = state_;
  n.leader = current_.leader;
  n.zxid = current_.zxid;
  n.electionEpoch = looking() ? clock_ : current_.electionEpoch;
  n.peerEpoch = current_.peerEpoch;
  n.config = configData_;
  return n;
}

void Election::sendToAll(std::int64_t nowMs) {
  for (auto sid : votersOfAll()) {
    if (sid != config_.mySid) out_.emplace_back(sid, toNotification());
  }
  nextSendAt_ = nowMs + interval_;
}

void Election::reply(std::int64_t to) {
  out_.emplace_back(to, toNotification());
}

bool Election::agreed(const std::map<std::int64_t, Vote>& votes, const Vote& target,
                      bool withPending) const {
  std::set<std::int64_t> sids;
  for (const auto& [sid, vote] : votes) {
    if (sameVote(vote, target)) sids.insert(sid);
  }
  if (!quorum_.isQuorum(sids)) return false;
  if (!withPending) return true;
  for (const auto& q : pending_) {
    if (!q.isQuorum(sids)) return false;
  }
  return true;
}

bool Election::leaderConfirmed(const std::map<std::int64_t, Vote>& votes, std::int64_t leader,
                               std::int64_t electionEpoch) const {
  if (leader == config_.mySid) return clock_ == electionEpoch;
  auto it = votes.find(leader);
  return it != votes.end() && it->second.state == ServerState::Leading;
}

void Election::decide(const Vote& v) {
  current_ = v;
  current_.electionEpoch = clock_;
  bool follows = voter_ || (config_.members.contains(config_.mySid) &&
                            config_.members.at(config_.mySid) == Role::NonVoting);
  state_ = v.leader == config_.mySid ? ServerState::Leading
           : follows                 ? ServerState::Following
                                     : ServerState::Observing;
  current_.state = state_;
  finalizeAt_.reset();
  received_.clear();
  outOfElection_.clear();
  decision_ = current_;
}

void Election::onNotification(std::int64_t nowMs, std::int64_t from, const Notification& n) {
  if (from == config_.mySid) return;
  if (!n.config.empty() && n.config != configData_ && n.config != lastSeenConfig_) {
    lastSeenConfig_ = n.config;
    seenConfigs_.push_back(n.config);
  }
  if (!member_) return;
  if (!looking()) {
    handleSettled(from, n);
    return;
  }
  // Non-voters, and servers not yet in our configuration (joining through a reconfig), do not
  // take part; they only need to learn our view.
  if (!isVoterOfAny(from)) {
    reply(from);
    return;
  }
  handleLooking(nowMs, from, n);
}

void Election::handleSettled(std::int64_t from, const Notification& n) {
  if (n.state == ServerState::Looking) reply(from);
}

void Election::handleLooking(std::int64_t nowMs, std::int64_t from, const Notification& n) {
  Vote v{n.leader, n.zxid, n.electionEpoch, n.peerEpoch, n.state};
  switch (n.state) {
    case ServerState::Looking: {
      if (n.electionEpoch > clock_) {
        clock_ = n.electionEpoch;
        received_.clear();
        finalizeAt_.reset();
        bool theirs = voteBeats(quorum_, n.leader, n.zxid, n.peerEpoch,
                                voter_ ? config_.mySid : kNobody, initZxid_, initEpoch_);
        if (theirs) {
          propose(n.leader, n.zxid, n.peerEpoch);
        } else {
          propose(voter_ ? config_.mySid : kNobody, initZxid_, initEpoch_);
        }
        sendToAll(nowMs);
      } else if (n.electionEpoch < clock_) {
        reply(from);  // a peer from an older round: tell it where we are
        return;
      } else if (voteBeats(quorum_, n.leader, n.zxid, n.peerEpoch, current_.leader, current_.zxid,
                           current_.peerEpoch)) {
        propose(n.leader, n.zxid, n.peerEpoch);
        finalizeAt_.reset();
        sendToAll(nowMs);
      }
      received_[from] = v;
      if (!finalizeAt_ && agreed(received_, current_)) {
        finalizeAt_ = nowMs + config_.finalizeWaitMs;
      }
      if (finalizeAt_ && everyReachableVoterAgrees()) decide(current_);
      return;
    }
    // Joining a leader that says it leads: a quorum of the active configuration is enough. The
    // leader itself needed quorums of every configuration it knows to get its epoch and
    // NEWLEADER acknowledged, and we only follow it (ZooKeeper asks the pending configuration
    // here too, which leaves a member with a stale pending reconfig unable ever to join).
    case ServerState::Following:
    case ServerState::Leading: {
      // Announcements naming us from before a reconfig made us a non-voter: we cannot lead.
      if (n.leader == config_.mySid && !voter_) return;
      if (n.electionEpoch == clock_) {
        received_[from] = v;
        if (agreed(received_, v, false) && leaderConfirmed(received_, n.leader, n.electionEpoch)) {
          decide(v);
          return;
        }
      }
      outOfElection_[from] = v;
      if (agreed(outOfElection_, v, false) &&
          leaderConfirmed(outOfElection_, n.leader, n.electionEpoch)) {
        clock_ = n.electionEpoch;
        decide(v);
      }
      return;
    }
    case ServerState::Observing:
      return;
  }
}

void Election::tick(std::int64_t nowMs) {
  if (!looking() || !member_) return;
  if (finalizeAt_ && (nowMs >= *finalizeAt_ || everyReachableVoterAgrees())) {
    if (agreed(received_, current_)) {
      decide(current_);
      return;
    }
    finalizeAt_.reset();
  }
  if (nowMs >= nextSendAt_) {
    interval_ = std::min(interval_ * 2, config_.maxNotificationIntervalMs);
    sendToAll(nowMs);
  }
}

}  // namespace zk::zab

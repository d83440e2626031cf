#pragma once
// Fast leader election (FastLeaderElection.lookForLeader) as a pure state machine: notifications
// and ticks in, notifications to send and a decided vote out. No clocks inside: time is nowMs.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "zab/packets.h"
#include "zab/quorum.h"

namespace zk::zab {

struct Vote {
  std::int64_t leader = 0;
  std::int64_t zxid = 0;
  std::int64_t electionEpoch = 0;
  std::int64_t peerEpoch = 0;
  ServerState state = ServerState::Looking;
};

// ZooKeeper's order: higher peerEpoch, then higher zxid, then higher sid. A candidate that is not
// a voter (observer, zero weight) never wins.
bool voteBeats(const Quorum& quorum, std::int64_t newLeader, std::int64_t newZxid,
               std::int64_t newEpoch, std::int64_t curLeader, std::int64_t curZxid,
               std::int64_t curEpoch);

struct ElectionConfig {
  std::int64_t mySid = 0;
  Members members;
  std::int64_t finalizeWaitMs = 200;
  std::int64_t minNotificationIntervalMs = 200;
  std::int64_t maxNotificationIntervalMs = 60000;
};

class Election {
 public:
  explicit Election(ElectionConfig config);

  // Enter LOOKING with a new round (logical clock + 1), proposing ourselves (voters) or nobody.
  void start(std::int64_t nowMs, std::int64_t lastZxid, std::int64_t currentEpoch);
  void onNotification(std::int64_t nowMs, std::int64_t from, const Notification& n);
  void tick(std::int64_t nowMs);

  // The decided vote, once; the election then holds that state and answers LOOKING peers.
  std::optional<Vote> takeDecision() { return std::exchange(decision_, std::nullopt); }
  std::vector<std::pair<std::int64_t, Notification>> takeOutgoing() {
    return std::exchange(out_, {});
  }

  bool looking() const { return state_ == ServerState::Looking; }
  // A reconfig became active: who votes from now on.
  void setMembers(const Members& members);
  // Configurations of reconfigs logged here but not known committed. Agreeing on a leader in a
  // round then needs a quorum of each of them too (ZooKeeper's termPredicate with the last seen
  // verifier), and their voters take part in the election.
  void setPending(std::vector<Members> pending);
  // The configuration text our notifications carry (ZooKeeper's notification version 2), so a
  // member that missed a reconfig learns it from whoever it talks to.
  void setConfigData(std::string data) { configData_ = std::move(data); }
  // Configuration texts seen in notifications that differ from ours, once each.
  std::vector<std::string> takeSeenConfigs() { return std::exchange(seenConfigs_, {}); }
  // The epoch we now lead or follow: settled announcements carry it, so members that decided in
  // different rounds still announce one vote and a restarted member can join them
  // (ZooKeeper's updateElectionVote, ZOOKEEPER-1732).
  void settleEpoch(std::int64_t epoch) {
    if (!looking()) current_.peerEpoch = epoch;
  }
  // Whether a voter can be reached at all (its election connection is up, or was never tried).
  // When every reachable voter already agrees, there is no better vote to wait finalizeWait for.
  void setReachable(std::int64_t sid, bool reachable);
  std::int64_t logicalClock() const { return clock_; }
  const Vote& currentVote() const { return current_; }

 private:
  void handleLooking(std::int64_t nowMs, std::int64_t from, const Notification& n);
  void handleSettled(std::int64_t from, const Notification& n);
  void propose(std::int64_t leader, std::int64_t zxid, std::int64_t epoch);
  void sendToAll(std::int64_t nowMs);
  void reply(std::int64_t to);
  // A quorum of the active configuration voted `target`, and (withPending) of each pending one.
  bool agreed(const std::map<std::int64_t, Vote>& votes, const Vote& target,
              bool withPending = true) const;
  bool isVoterOfAny(std::int64_t sid) const;
  std::set<std::int64_t> votersOfAll() const;
  bool everyReachableVoterAgrees() const;
  bool leaderConfirmed(const std::map<std::int64_t, Vote>& votes, std::int64_t leader,
                       std::int64_t electionEpoch) const;
  void decide(const Vote& v);
  Notification toNotification() const;

  ElectionConfig config_;
  Quorum quorum_;
  std::vector<Quorum> pending_;
  bool voter_;
  bool member_;  // false once a reconfig removed us: we neither vote nor follow
  ServerState state_ = ServerState::Looking;
  std::int64_t clock_ = 0;
  Vote current_;  // our proposal while looking, the decided vote after
  std::int64_t initZxid_ = 0, initEpoch_ = 0;
  std::map<std::int64_t, Vote> received_;       // this round's votes
  std::map<std::int64_t, Vote> outOfElection_;  // FOLLOWING / LEADING announcements
  std::optional<std::int64_t> finalizeAt_;
  std::set<std::int64_t> unreachable_;
  std::string configData_;
  std::string lastSeenConfig_;
  std::vector<std::string> seenConfigs_;
  std::int64_t nextSendAt_ = 0;
  std::int64_t interval_ = 0;
  std::optional<Vote> decision_;
  std::vector<std::pair<std::int64_t, Notification>> out_;
};

}  // namespace zk::zab

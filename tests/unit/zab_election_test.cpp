#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <memory>
#include <set>
#include <tuple>

#include "zab/election.h"

namespace zk::zab {
namespace {

Members members(int voters, int observers = 0) {
  Members m;
  for (int i = 1; i <= voters + observers; ++i) {
    m[i] = i <= voters ? Role::Participant : Role::Observer;
  }
  return m;
}

TEST(ZabVoteOrder, EpochThenZxidThenSid) {
  Quorum q(members(3, 1));
  EXPECT_TRUE(voteBeats(q, 1, 0x100000005, 2, 3, 0x100000009, 1));  // epoch wins over zxid
  EXPECT_FALSE(voteBeats(q, 3, 0x100000009, 1, 1, 0x100000005, 2));
  EXPECT_TRUE(voteBeats(q, 1, 0x200000002, 2, 3, 0x200000001, 2));   // then zxid over sid
  EXPECT_TRUE(voteBeats(q, 3, 0x200000002, 2, 2, 0x200000002, 2));   // then sid
  EXPECT_FALSE(voteBeats(q, 2, 0x200000002, 2, 2, 0x200000002, 2));  // equal is not better
  EXPECT_FALSE(voteBeats(q, 4, 0x900000000, 9, 1, 0, 0));            // an observer never wins
}

// A lossless, in-order pump between Election objects: messages are handed over at each step.
struct Net {
  std::map<std::int64_t, std::unique_ptr<Election>> nodes;
  std::map<std::int64_t, Vote> decided;
  std::int64_t now = 0;
  std::size_t sent = 0;
  std::set<std::int64_t> down;

  Net(int voters, int observers) {
    for (const auto& [sid, role] : members(voters, observers)) {
      ElectionConfig c;
      c.mySid = sid;
      c.members = members(voters, observers);
      nodes[sid] = std::make_unique<Election>(c);
    }
  }
  void start(std::int64_t sid, std::int64_t zxid, std::int64_t epoch) {
    nodes.at(sid)->start(now, zxid, epoch);
  }
  void step(std::int64_t ms) {
    now += ms;
    std::deque<std::tuple<std::int64_t, std::int64_t, Notification>> q;
    for (auto& [sid, e] : nodes) {
      if (down.count(sid)) continue;
      e->tick(now);
      for (auto& [to, n] : e->takeOutgoing()) q.emplace_back(sid, to, n);
    }
    for (std::size_t handed = 0; !q.empty(); ++handed) {
      if (handed == 100000) {
        ADD_FAILURE() << "the members never stop answering each other";
        return;
      }
      auto [from, to, n] = q.front();
      q.pop_front();
      ++sent;
      if (down.count(to)) continue;
      auto& e = *nodes.at(to);
      e.onNotification(now, from, n);
      for (auto& [t, m] : e.takeOutgoing()) q.emplace_back(to, t, m);
    }
    for (auto& [sid, e] : nodes) {
      if (auto d = e->takeDecision()) decided[sid] = *d;
    }
  }
};

TEST(ZabElection, ThreeVotersElectTheMostUpToDateAtOnceWhenAllAgree) {
  Net net(3, 0);
  net.start(1, 0x100000009, 1);  // highest zxid, lowest sid
  net.start(2, 0x100000005, 1);
  net.start(3, 0x100000005, 1);
  net.step(10);
  // Every voter has voted for 1: no better vote can come, so nobody waits finalizeWait.
  ASSERT_EQ(net.decided.size(), 3u);
  EXPECT_EQ(net.decided[1].state, ServerState::Leading);
  EXPECT_EQ(net.decided[2].state, ServerState::Following);
  EXPECT_EQ(net.decided[3].state, ServerState::Following);
  for (auto& [sid, v] : net.decided) EXPECT_EQ(v.leader, 1);
}

TEST(ZabElection, AQuorumWithASilentVoterWaitsFinalizeWait) {
  Net net(3, 0);
  net.down.insert(3);  // not running, but nobody was told
  net.start(1, 0x100000009, 1);
  net.start(2, 0x100000005, 1);
  net.step(10);
  EXPECT_TRUE(net.decided.empty()) << "a late, better vote from 3 is still possible";
  for (int i = 0; i < 30; ++i) net.step(10);
  ASSERT_EQ(net.decided.size(), 2u);
  EXPECT_EQ(net.decided[1].leader, 1);
  EXPECT_EQ(net.decided[2].leader, 1);
}

TEST(ZabElection, AVoterKnownUnreachableIsNotWaitedFor) {
  Net net(3, 0);
  net.down.insert(3);
  net.nodes.at(1)->setReachable(3, false);  // its election connection failed
  net.nodes.at(2)->setReachable(3, false);
  net.start(1, 0x100000009, 1);
  net.start(2, 0x100000005, 1);
  net.step(10);
  ASSERT_EQ(net.decided.size(), 2u);
  EXPECT_EQ(net.decided[2].leader, 1);
}

TEST(ZabElection, AnUnreachableCandidateIsNeverElectedAtOnce) {
  Net net(3, 0);
  net.start(1, 0x100000009, 1);
  net.start(2, 0x100000005, 1);
  net.start(3, 0x100000005, 1);
  net.nodes.at(2)->setReachable(1, false);  // 2 lost 1 after its vote for itself arrived
  net.nodes.at(3)->setReachable(1, false);
  net.step(10);
  EXPECT_EQ(net.decided.count(2), 0u) << "2 must not rush to follow a leader it cannot reach";
}

TEST(ZabElection, HigherEpochBeatsLongerLog) {
  Net net(5, 0);
  for (int sid = 1; sid <= 5; ++sid)
    net.start(sid, sid == 2 ? 0x300000001 : 0x200000050, sid == 2 ? 3 : 2);
  for (int i = 0; i < 40; ++i) net.step(10);
  ASSERT_EQ(net.decided.size(), 5u);
  for (auto& [sid, v] : net.decided) EXPECT_EQ(v.leader, 2);
}

TEST(ZabElection, ObserverLearnsTheLeaderButNeverVotes) {
  Net net(3, 1);
  for (int sid = 1; sid <= 4; ++sid) net.start(sid, sid == 4 ? 0x900000000 : 0, sid == 4 ? 9 : 0);
  for (int i = 0; i < 40; ++i) net.step(10);
  ASSERT_EQ(net.decided.size(), 4u);
  EXPECT_EQ(net.decided[4].state, ServerState::Observing);
  EXPECT_EQ(net.decided[4].leader, 3);  // the observer's long log does not make it a candidate
  EXPECT_EQ(net.decided[3].state, ServerState::Leading);
}

TEST(ZabElection, RestartedMemberJoinsTheSettledEnsemble) {
  Net net(3, 0);
  for (int sid = 1; sid <= 3; ++sid) net.start(sid, 0, 0);
  for (int i = 0; i < 3; ++i) net.step(10);  // a few rounds of clock bumps before settling
  for (int sid = 1; sid <= 3; ++sid) net.start(sid, 0, 0);
  for (int i = 0; i < 40; ++i) net.step(10);
  ASSERT_EQ(net.decided.size(), 3u);
  // Member 1 restarts: its clock is back at 1, below everyone else's round.
  ElectionConfig c;
  c.mySid = 1;
  c.members = members(3);
  net.nodes[1] = std::make_unique<Election>(c);
  net.decided.erase(1);
  net.start(1, 0, 0);
  EXPECT_LT(net.nodes[1]->logicalClock(), net.nodes[2]->logicalClock());
  for (int i = 0; i < 40; ++i) net.step(10);
  ASSERT_TRUE(net.decided.count(1));
  EXPECT_EQ(net.decided[1].leader, 3);
  EXPECT_EQ(net.decided[1].state, ServerState::Following);
}

TEST(ZabElection, NoQuorumNoDecisionAndBackoffDoubles) {
  Net net(3, 0);
  net.down = {2, 3};
  net.start(1, 0, 0);
  std::vector<std::int64_t> sendTimes;
  std::size_t before = 0;
  for (int i = 0; i < 400; ++i) {
    net.step(10);
    if (net.sent != before) sendTimes.push_back(net.now);
    before = net.sent;
  }
  EXPECT_TRUE(net.decided.empty());
  ASSERT_GE(sendTimes.size(), 4u);
  for (std::size_t i = 2; i < sendTimes.size(); ++i) {
    EXPECT_GE(sendTimes[i] - sendTimes[i - 1], sendTimes[i - 1] - sendTimes[i - 2]);
  }
  EXPECT_GE(sendTimes.back() - sendTimes[sendTimes.size() - 2], 800);
}

TEST(ZabElection, SettledMemberAnswersLookers) {
  ElectionConfig c;
  c.mySid = 2;
  c.members = members(3);
  Election e(c);
  e.start(0, 0, 0);
  e.takeOutgoing();
  Notification vote{ServerState::Looking, 3, 0, 1, 0, 0x2, ""};
  e.onNotification(0, 3, vote);
  e.onNotification(0, 1, vote);
  e.tick(300);
  auto d = e.takeDecision();
  ASSERT_TRUE(d);
  EXPECT_EQ(d->state, ServerState::Following);
  e.takeOutgoing();
  e.onNotification(400, 1, Notification{ServerState::Looking, 1, 0, 7, 0, 0x2, ""});
  auto out = e.takeOutgoing();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].first, 1);
  EXPECT_EQ(out[0].second.state, ServerState::Following);
  EXPECT_EQ(out[0].second.leader, 3);
}

Election withPendingReconfig() {
  ElectionConfig c;
  c.mySid = 1;
  c.members = members(3);  // voters 1, 2, 3
  Election e(c);
  e.setPending({{{1, Role::Participant},
                 {2, Role::Observer},
                 {3, Role::Participant},
                 {4, Role::Participant},
                 {5, Role::Participant}}});  // voters 1, 3, 4, 5
  return e;
}

// A member that logged a reconfig it has not seen commit agrees on a leader only with a quorum
// of the active AND of the pending configuration.
TEST(ZabElection, AgreementNeedsAQuorumOfThePendingConfigurationToo) {
  Election e = withPendingReconfig();
  e.start(0, 0x100000001, 1);
  std::set<std::int64_t> to;
  for (const auto& [sid, n] : e.takeOutgoing()) to.insert(sid);
  EXPECT_EQ(to, (std::set<std::int64_t>{2, 3, 4, 5})) << "voters of both configurations";
  auto looking = [&](std::int64_t from) {
    e.onNotification(10, from, Notification{ServerState::Looking, 3, 0x100000009, 1, 1, 0x2, ""});
  };
  looking(2);
  looking(3);  // 1, 2, 3: all of {1, 2, 3}, but only 1 and 3 of {1, 3, 4, 5}
  e.tick(5000);
  EXPECT_FALSE(e.takeDecision());
  looking(4);
  e.tick(10000);
  auto d = e.takeDecision();
  ASSERT_TRUE(d);
  EXPECT_EQ(d->leader, 3);
}

// Joining a leader that announces it leads needs only the active configuration's quorum: that
// leader proved its quorums of every configuration it knows, and a stale pending reconfig (one a
// later epoch superseded) must not keep a member out for good.
TEST(ZabElection, JoiningASettledLeaderNeedsOnlyTheActiveQuorum) {
  Election e = withPendingReconfig();
  e.start(0, 0x100000001, 1);
  e.onNotification(10, 3, Notification{ServerState::Leading, 3, 0x200000009, 7, 2, 0x2, ""});
  EXPECT_FALSE(e.takeDecision()) << "the leader alone is no quorum of {1, 2, 3}";
  e.onNotification(10, 2, Notification{ServerState::Following, 3, 0x200000009, 7, 2, 0x2, ""});
  auto d = e.takeDecision();
  ASSERT_TRUE(d);
  EXPECT_EQ(d->leader, 3);
  EXPECT_EQ(d->state, ServerState::Following);
}

// sim_zab --reconfig 0.1 seed 29194: a member demoted to observer by a reconfig it adopted got
// announcements still naming it leader (from before) and took the lead as an observer.
TEST(ZabElection, ANonVoterNeverDecidesToLead) {
  ElectionConfig c;
  c.mySid = 4;
  c.members = members(3, 1);  // 4 is an observer
  Election e(c);
  e.start(0, 0x200000013, 2);
  for (std::int64_t from : {1, 2, 3}) {
    e.onNotification(10, from, Notification{ServerState::Following, 4, 0x200000013, 1, 3, 0x2, ""});
  }
  EXPECT_FALSE(e.takeDecision());
}

// issue 17: a member with standaloneEnabled=false and one participant looked for ever, since its
// round only ever ended on a notification from another voter.
TEST(ZabElection, ASingleVoterElectsItselfAtOnce) {
  Net net(1, 0);
  net.start(1, 0x100000004, 1);
  net.step(10);
  ASSERT_EQ(net.decided.size(), 1u);
  EXPECT_EQ(net.decided[1].leader, 1);
  EXPECT_EQ(net.decided[1].state, ServerState::Leading);
  EXPECT_EQ(net.sent, 0u) << "there is nobody to tell";
}

TEST(ZabElection, TheObserversOfASingleVoterFollowIt) {
  Net net(1, 2);
  for (int sid = 1; sid <= 3; ++sid) net.start(sid, sid == 1 ? 0 : 0x900000000, sid == 1 ? 0 : 9);
  for (int i = 0; i < 40; ++i) net.step(10);
  ASSERT_EQ(net.decided.size(), 3u);
  EXPECT_EQ(net.decided[1].state, ServerState::Leading);
  EXPECT_EQ(net.decided[2].state, ServerState::Observing);
  EXPECT_EQ(net.decided[3].state, ServerState::Observing);
  EXPECT_EQ(net.decided[3].leader, 1);
}

// A single voter with a reconfig to more voters pending is no quorum of that configuration.
TEST(ZabElection, ASingleVoterWithAPendingReconfigWaitsForItsVoters) {
  ElectionConfig c;
  c.mySid = 1;
  c.members = members(1);
  Election e(c);
  e.setPending({members(3)});
  e.start(0, 0x100000001, 1);
  e.tick(1000);
  EXPECT_FALSE(e.takeDecision());
  e.onNotification(1000, 2, Notification{ServerState::Looking, 1, 0x100000001, 1, 1, 0x2, ""});
  e.tick(1300);
  auto d = e.takeDecision();
  ASSERT_TRUE(d);
  EXPECT_EQ(d->state, ServerState::Leading);
}

}  // namespace
}  // namespace zk::zab

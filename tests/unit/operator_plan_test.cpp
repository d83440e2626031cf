// The planner's rules, one table or scenario per rule of the rolling restart and scaling.
#include <gtest/gtest.h>

#include "operator_plan_test_util.h"

namespace zk::op {
namespace {

using namespace zk::op::testing;

const std::string kOld = "old-hash";
const std::string kNew = "new-hash";

// Keeps the status the planner wrote, as the resource would.
Plan step(ZkCluster& c, const Observed& o, const std::string& target = kNew) {
  Plan p = plan(c, target, o);
  c.status = p.status;
  return p;
}

TEST(OperatorPlan, BootstrapCreatesEveryMemberAtOnceWithoutCallingItDegraded) {
  ZkCluster c = makeCluster(3, 2);
  c.status = {};
  Plan p = step(c, Observed{});
  ASSERT_FALSE(p.actions.empty());
  EXPECT_TRUE(std::holds_alternative<UpdateStatus>(p.actions.front()));
  EXPECT_EQ(actionsOf<ApplyObjects>(p), (std::vector<ApplyObjects>{{{3, 2}}}));
  EXPECT_TRUE(restarts(p).empty());
  EXPECT_EQ(p.status.phase, "Creating");
  EXPECT_EQ(conditionOf(p.status, "Degraded").status, "False");
  EXPECT_EQ(conditionOf(p.status, "Progressing").reason, "Creating");
  // Pods exist but no quorum yet: still creating, not degraded.
  Observed starting;
  for (const Member& m : members(c, {3, 2})) {
    ObservedMember om;
    om.member = m;
    om.exists = om.running = true;
    om.rolloutHash = kNew;
    starting.members.push_back(om);
  }
  p = step(c, starting);
  EXPECT_EQ(p.status.phase, "Creating");
  EXPECT_EQ(actionsOf<ApplyObjects>(p), (std::vector<ApplyObjects>{{{3, 2}}}));
  EXPECT_EQ(conditionOf(p.status, "Degraded").status, "False");
  p = step(c, healthy(c, kNew));
  EXPECT_EQ(p.status.phase, "Running");
}

TEST(OperatorPlan, SteadyStateIsIdempotent) {
  ZkCluster c = makeCluster(3, 1);
  Observed o = healthy(c, kNew, 1);
  Plan first = step(c, o);
  Plan second = step(c, o);
  EXPECT_EQ(first.status, second.status);
  EXPECT_TRUE(restarts(second).empty());
  EXPECT_TRUE(actionsOf<ReconfigAdd>(second).empty());
  EXPECT_TRUE(actionsOf<ReconfigRemove>(second).empty());
  EXPECT_TRUE(actionsOf<EmitEvent>(second).empty()) << describe(second.actions.back());
  EXPECT_EQ(second.status.phase, "Running");
  EXPECT_EQ(second.status.leader, "zk-1");
  EXPECT_EQ(second.status.quorumSize, 2);
  EXPECT_EQ(second.status.readyMembers, 4);
  for (const Condition& cond : second.status.conditions) {
    EXPECT_EQ(cond.observedGeneration, 4) << cond.type;
  }
  EXPECT_EQ(conditionOf(second.status, "Available").status, "True");
  EXPECT_EQ(conditionOf(second.status, "Available").lastTransitionTime, "t0")
      << "an unchanged condition keeps its transition time";
  EXPECT_EQ(conditionOf(second.status, "Degraded").status, "False");
  EXPECT_EQ(conditionOf(second.status, "Progressing").status, "False");
}

// Drives a whole roll: each restarted member comes back in sync at once.
std::vector<std::string> rollOrder(ZkCluster& c, Observed& o) {
  std::vector<std::string> order;
  for (int guard = 0; guard < 40; ++guard) {
    Plan p = step(c, o);
    // Status is written before any restart, and objects are applied before it.
    EXPECT_TRUE(std::holds_alternative<UpdateStatus>(p.actions.front()));
    for (const std::string& name : restarts(p)) {
      order.push_back(name);
      EXPECT_EQ(p.status.roll.current, name);
      ObservedMember& m = find(o, name);
      m.rolloutHash = kNew;
      m.zxid = p.status.roll.syncZxid + 1;
    }
    if (!p.status.roll.active() && restarts(p).empty()) break;
  }
  return order;
}

TEST(OperatorPlan, RollRestartsObserversThenFollowersThenTheLeader) {
  ZkCluster c = makeCluster(5, 2);
  Observed o = healthy(c, kOld, /*leader=*/2);
  EXPECT_EQ(rollOrder(c, o), (std::vector<std::string>{"zk-observer-0", "zk-observer-1", "zk-0",
                                                       "zk-1", "zk-3", "zk-4", "zk-2"}));
  EXPECT_FALSE(c.status.roll.active());
  EXPECT_EQ(c.status.phase, "Running");
}

TEST(OperatorPlan, RollStartAndCompletionAreEvents) {
  ZkCluster c = makeCluster(1, 0);
  Observed o = healthy(c, kOld);
  Plan p = step(c, o);
  EXPECT_TRUE(hasEvent(p, "RollStarted"));
  EXPECT_EQ(restarts(p), std::vector<std::string>{"zk-0"}) << "a single voter must still roll";
  find(o, "zk-0").rolloutHash = kNew;
  find(o, "zk-0").zxid = 200;
  p = step(c, o);
  EXPECT_TRUE(hasEvent(p, "MemberRestarted"));
  EXPECT_TRUE(hasEvent(p, "RollCompleted"));
  EXPECT_FALSE(p.status.roll.active());
}

struct WaitCase {
  const char* name;
  bool running, ready;
  MemberRole role;
  std::int64_t zxid;  // the leader was at 100 when the member was restarted
};

class RollWaitsForSync : public ::testing::TestWithParam<WaitCase> {};

TEST_P(RollWaitsForSync, TheNextMemberWaitsUntilTheRestartedOneIsBackInSync) {
  const WaitCase& w = GetParam();
  ZkCluster c = makeCluster(3, 0);
  Observed o = healthy(c, kOld, 2);
  c.status.roll = {kNew, {}, "zk-0", 100};
  ObservedMember& m = find(o, "zk-0");
  m.rolloutHash = kNew;
  m.running = w.running;
  m.ready = w.ready;
  m.role = w.role;
  m.zxid = w.zxid;
  Plan p = step(c, o);
  EXPECT_TRUE(restarts(p).empty()) << w.name;
  EXPECT_EQ(p.status.roll.current, "zk-0");
  EXPECT_FALSE(actionsOf<Wait>(p).empty());
  EXPECT_EQ(conditionOf(p.status, "Degraded").status, "False")
      << "a member restarted on purpose is not a degradation";
  EXPECT_EQ(conditionOf(p.status, "Progressing").reason, "Rolling");
  EXPECT_EQ(p.status.phase, "Rolling");
}

INSTANTIATE_TEST_SUITE_P(
    Cases, RollWaitsForSync,
    ::testing::Values(WaitCase{"not running", false, false, MemberRole::kUnknown, 0},
                      WaitCase{"not ready", true, false, MemberRole::kFollower, 100},
                      WaitCase{"no role yet", true, true, MemberRole::kUnknown, 100},
                      WaitCase{"voter came back as observer", true, true, MemberRole::kObserver,
                               100},
                      WaitCase{"zxid behind the leader", true, true, MemberRole::kFollower, 99}));

TEST(OperatorPlan, NeverTakesASecondVoterDown) {
  ZkCluster c = makeCluster(5, 0);
  Observed o = healthy(c, kOld, 4);
  find(o, "zk-3").ready = false;  // out for its own reasons, already on the old hash
  find(o, "zk-3").rolloutHash = kNew;
  Plan p = step(c, o);
  // zk-3 is out: restarting any other voter would make two.
  EXPECT_TRUE(restarts(p).empty());
  EXPECT_EQ(conditionOf(p.status, "Degraded").status, "True");
  EXPECT_EQ(conditionOf(p.status, "Degraded").reason, "Paused");
  EXPECT_EQ(conditionOf(p.status, "Available").status, "True");
  EXPECT_TRUE(p.status.roll.current.empty());
}

TEST(OperatorPlan, AMemberAlreadyDownIsRestartedFirstSoABadImageCanBeRolledBack) {
  ZkCluster c = makeCluster(3, 0);
  Observed o = healthy(c, kOld, 0);
  // A roll to a bad image left zk-1 crash-looping; the user reverts to kOld.
  c.status.roll = {"bad", {}, "zk-1", 100};
  ObservedMember& bad = find(o, "zk-1");
  bad.rolloutHash = "bad";
  bad.ready = false;
  bad.running = false;
  bad.role = MemberRole::kUnknown;
  Plan p = step(c, o, kOld);
  EXPECT_EQ(p.status.roll.target, kOld);
  EXPECT_EQ(restarts(p), std::vector<std::string>{"zk-1"});
}

TEST(OperatorPlan, PausesAndReportsDegradedWithoutAQuorum) {
  ZkCluster c = makeCluster(3, 1);
  Observed o = healthy(c, kOld, 0);
  for (const char* name : {"zk-0", "zk-1"}) {
    find(o, name).running = find(o, name).ready = false;
    find(o, name).role = MemberRole::kUnknown;
  }
  Plan p = step(c, o);
  EXPECT_TRUE(restarts(p).empty()) << "not even the observer";
  EXPECT_EQ(p.status.phase, "Degraded");
  EXPECT_EQ(conditionOf(p.status, "Available").status, "False");
  EXPECT_EQ(conditionOf(p.status, "Degraded").reason, "QuorumUnhealthy");
  EXPECT_TRUE(hasEvent(p, "QuorumLost"));
  Plan again = step(c, o);
  EXPECT_FALSE(hasEvent(again, "QuorumLost")) << "an event per transition, not per pass";
  EXPECT_EQ(actionsOf<ApplyObjects>(again), (std::vector<ApplyObjects>{{{3, 1}}}))
      << "objects are kept, membership untouched";
}

TEST(OperatorPlan, ResumesFromStoredProgressWithoutRestartingAnyoneTwice) {
  ZkCluster c = makeCluster(3, 1);
  Observed o = healthy(c, kOld, 1);
  // Before the operator restarted: the observer and zk-0 were done, zk-2 was in flight.
  c.status.roll = {kNew, {"zk-observer-0", "zk-0"}, "zk-2", 90};
  find(o, "zk-observer-0").rolloutHash = kNew;
  // zk-0 was restarted, yet reports the old hash (say a stale annotation): still never again.
  find(o, "zk-2").rolloutHash = kNew;
  Plan p = step(c, o);
  EXPECT_EQ(restarts(p), std::vector<std::string>{"zk-1"}) << "zk-2 synced; the leader is next";
  EXPECT_EQ(p.status.roll.restarted, (std::vector<std::string>{"zk-observer-0", "zk-0", "zk-2"}));
}

TEST(OperatorPlan, ARecordedRestartThatNeverHappenedIsIssuedOnce) {
  ZkCluster c = makeCluster(3, 0);
  Observed o = healthy(c, kOld, 2);
  c.status.roll = {kNew, {}, "zk-0", 100};  // status written, then the operator died
  Plan p = step(c, o);
  EXPECT_EQ(restarts(p), std::vector<std::string>{"zk-0"});
  EXPECT_EQ(p.status.roll.current, "zk-0");
}

TEST(OperatorPlan, ANewTargetMidRollStartsANewRoll) {
  ZkCluster c = makeCluster(3, 0);
  Observed o = healthy(c, kOld, 2);
  c.status.roll = {"between", {"zk-0"}, "", 0};
  Plan p = step(c, o);
  EXPECT_EQ(p.status.roll.target, kNew);
  EXPECT_EQ(restarts(p), std::vector<std::string>{"zk-0"});
  EXPECT_TRUE(hasEvent(p, "RollStarted"));
}

TEST(OperatorPlan, ObserversScaleUpAtAnyTimeEvenMidRoll) {
  ZkCluster c = makeCluster(3, 0);
  Observed o = healthy(c, kOld, 2);
  c.status.roll = {kNew, {}, "zk-0", 100};
  find(o, "zk-0").ready = false;  // restarting
  c.spec.observers = 3;
  Plan p = step(c, o);
  EXPECT_EQ(actionsOf<ApplyObjects>(p), (std::vector<ApplyObjects>{{{3, 3}}}));
  EXPECT_TRUE(hasEvent(p, "ScaledObservers"));
  EXPECT_TRUE(actionsOf<ReconfigAdd>(p).empty()) << "none runs yet";
  o.members.push_back(upMember(observerMember(c, 0), MemberRole::kUnknown, 0, kNew));
  o.members.back().ready = false;
  p = step(c, o);
  EXPECT_EQ(actionsOf<ReconfigAdd>(p), (std::vector<ReconfigAdd>{{observerMember(c, 0)}}));
  EXPECT_TRUE(restarts(p).empty()) << "new observers run the new config already";
}

TEST(OperatorPlan, ObserversLeaveTheEnsembleBeforeTheirPodsGo) {
  ZkCluster c = makeCluster(3, 3);
  Observed o = healthy(c, kNew, 0);
  c.spec.observers = 1;
  Plan p = step(c, o);
  EXPECT_EQ(actionsOf<ApplyObjects>(p), (std::vector<ApplyObjects>{{{3, 3}}}));
  EXPECT_EQ(actionsOf<ReconfigRemove>(p),
            (std::vector<ReconfigRemove>{{observerMember(c, 1)}, {observerMember(c, 2)}}));
  o.ensemble->observers = {101};
  p = step(c, o);
  EXPECT_EQ(actionsOf<ApplyObjects>(p), (std::vector<ApplyObjects>{{{3, 1}}}));
  EXPECT_TRUE(actionsOf<ReconfigRemove>(p).empty());
  EXPECT_EQ(p.status.observers, 1);
}

TEST(OperatorPlan, VotersGrowOneAtATimeThroughReconfig) {
  ZkCluster c = makeCluster(3, 0);
  Observed o = healthy(c, kNew, 0);
  c.spec.voters = 5;
  Plan p = step(c, o);
  EXPECT_EQ(actionsOf<ApplyObjects>(p), (std::vector<ApplyObjects>{{{4, 0}}}));
  EXPECT_TRUE(actionsOf<ReconfigAdd>(p).empty()) << "zk-3 does not run yet";
  o.members.push_back(upMember(voterMember(c, 3), MemberRole::kFollower, 100, kNew));
  p = step(c, o);
  EXPECT_EQ(actionsOf<ApplyObjects>(p), (std::vector<ApplyObjects>{{{4, 0}}}));
  EXPECT_EQ(actionsOf<ReconfigAdd>(p), (std::vector<ReconfigAdd>{{voterMember(c, 3)}}));
  o.ensemble->voters.insert(4);
  p = step(c, o);
  EXPECT_EQ(actionsOf<ApplyObjects>(p), (std::vector<ApplyObjects>{{{5, 0}}}));
  EXPECT_TRUE(actionsOf<ReconfigAdd>(p).empty());
  EXPECT_EQ(p.status.quorumSize, 3);
}

TEST(OperatorPlan, VotersShrinkOutOfTheEnsembleBeforeTheirPodsGo) {
  ZkCluster c = makeCluster(5, 0);
  Observed o = healthy(c, kNew, 4);
  c.spec.voters = 3;
  Plan p = step(c, o);
  EXPECT_EQ(actionsOf<ApplyObjects>(p), (std::vector<ApplyObjects>{{{5, 0}}}));
  EXPECT_EQ(actionsOf<ReconfigRemove>(p), (std::vector<ReconfigRemove>{{voterMember(c, 4)}}));
  // zk-4 led; after its removal zk-0 leads and the view has four voters.
  o.ensemble->voters.erase(5);
  find(o, "zk-4").role = MemberRole::kUnknown;
  find(o, "zk-0").role = MemberRole::kLeader;
  p = step(c, o);
  EXPECT_EQ(actionsOf<ApplyObjects>(p), (std::vector<ApplyObjects>{{{4, 0}}}));
  EXPECT_EQ(actionsOf<ReconfigRemove>(p), (std::vector<ReconfigRemove>{{voterMember(c, 3)}}));
  o.ensemble->voters.erase(4);
  p = step(c, o);
  EXPECT_EQ(actionsOf<ApplyObjects>(p), (std::vector<ApplyObjects>{{{3, 0}}}));
}

TEST(OperatorPlan, VoterScalingWaitsForHealthARollAndAKnownMembership) {
  ZkCluster c = makeCluster(3, 0);
  Observed o = healthy(c, kNew, 0);
  Observed unknown = o;
  unknown.ensemble.reset();
  c.spec.voters = 1;
  find(o, "zk-1").ready = false;
  Plan p = step(c, o);
  EXPECT_TRUE(actionsOf<ReconfigRemove>(p).empty()) << "one voter is already out";
  find(o, "zk-1").ready = true;
  p = step(c, o, "rolling");
  EXPECT_TRUE(actionsOf<ReconfigRemove>(p).empty()) << "a roll is under way";
  p = step(c, unknown);
  EXPECT_TRUE(actionsOf<ReconfigRemove>(p).empty());
  EXPECT_EQ(actionsOf<ApplyObjects>(p), (std::vector<ApplyObjects>{{{3, 0}}}));
}

TEST(OperatorPlan, AnInvalidSpecTouchesNothingAndSaysWhy) {
  ZkClusterStatus previous = makeCluster(3, 0).status;
  Plan p = planInvalid(previous, 9, {"spec.voters: must be odd, got 4"});
  ASSERT_EQ(p.actions.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<UpdateStatus>(p.actions[0]));
  EXPECT_TRUE(hasEvent(p, "InvalidSpec"));
  EXPECT_EQ(p.status.observedGeneration, 9);
  EXPECT_EQ(p.status.voters, 3) << "what was applied stays recorded";
  const Condition& d = conditionOf(p.status, "Degraded");
  EXPECT_EQ(d.status, "True");
  EXPECT_EQ(d.reason, "InvalidSpec");
  EXPECT_EQ(d.message, "spec.voters: must be odd, got 4");
  EXPECT_EQ(conditionOf(p.status, "Available").status, "True");
  Plan again = planInvalid(p.status, 9, {"spec.voters: must be odd, got 4"});
  EXPECT_EQ(again.actions.size(), 1u) << "no repeated event";
}

TEST(OperatorPlan, ConfigValuesTheParserRefusesHaveTheirOwnReason) {
  ZkClusterStatus previous = makeCluster(3, 0).status;
  Plan p = planInvalid(previous, 2, {"spec.config.tickTime: 'abc' is not a number"});
  EXPECT_EQ(conditionOf(p.status, "Degraded").reason, "InvalidConfig");
  EXPECT_TRUE(hasEvent(p, "InvalidConfig"));
  Plan mixed = planInvalid(
      previous, 2,
      {"spec.config.tickTime: 'abc' is not a number", "spec.voters: must be odd, got 4"});
  EXPECT_EQ(conditionOf(mixed.status, "Degraded").reason, "InvalidSpec");
}

}  // namespace
}  // namespace zk::op

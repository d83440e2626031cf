// What the status and Events say when the ensemble is not converging (a cause the backend saw,
// a member that crash-loops), and what they do not say while a disruption is planned.
#include <gtest/gtest.h>

#include "operator_plan_test_util.h"

namespace zk::op {
namespace {

using namespace zk::op::testing;

const std::string kHash = "hash";

Plan step(ZkCluster& c, const Observed& o, const std::string& target = kHash) {
  Plan p = plan(c, target, o);
  c.status = p.status;
  return p;
}

int events(const Plan& p, const std::string& reason) {
  int n = 0;
  for (const EmitEvent& e : actionsOf<EmitEvent>(p)) n += e.reason == reason && e.warning;
  return n;
}

TEST(OperatorPlanStatus, ACauseThatHoldsEveryApplyOnlyReportsIt) {
  ZkCluster c = makeCluster(3, 1);
  Observed o = healthy(c, kHash);
  o.blockers.push_back({BlockCause::kSecretMissing, "Secret ns/pw does not exist"});
  Plan p = step(c, o);
  EXPECT_TRUE(actionsOf<ApplyObjects>(p).empty());
  EXPECT_TRUE(restarts(p).empty());
  const Condition& d = conditionOf(p.status, "Degraded");
  EXPECT_EQ(d.status, "True");
  EXPECT_EQ(d.reason, "SecretMissing");
  EXPECT_EQ(d.message, "Secret ns/pw does not exist");
  EXPECT_EQ(p.status.phase, "Degraded");
  EXPECT_EQ(events(p, "SecretMissing"), 1);
  EXPECT_EQ(events(step(c, o), "SecretMissing"), 0) << "an Event per change, not per pass";
  o.blockers = {{BlockCause::kApplyRefused, "StatefulSet zk was refused: quantities ..."}};
  Plan other = step(c, o);
  EXPECT_EQ(conditionOf(other.status, "Degraded").reason, "ApplyRefused");
  EXPECT_EQ(events(other, "ApplyRefused"), 1) << "another cause is news";
}

TEST(OperatorPlanStatus, PodsThatCannotBeCreatedAreNotCalledCreating) {
  ZkCluster c = makeCluster(3, 0);
  c.status = {};  // a new cluster: nothing created yet
  Observed o;
  o.blockers.push_back({BlockCause::kPodsNotCreated,
                        "StatefulSet zk has 0 of 3 pods: create Pod zk-0 in StatefulSet zk "
                        "failed error: pods \"zk-0\" is forbidden: violates PodSecurity"});
  Plan p = step(c, o);
  EXPECT_EQ(actionsOf<ApplyObjects>(p).size(), 1u) << "a fixed template must still be applied";
  EXPECT_EQ(p.status.phase, "Degraded");
  EXPECT_EQ(conditionOf(p.status, "Degraded").reason, "PodsNotCreated");
  EXPECT_EQ(events(p, "PodsNotCreated"), 1);
  o.blockers.clear();
  EXPECT_EQ(step(c, o).status.phase, "Creating") << "pods being made: creating again";
}

TEST(OperatorPlanStatus, ACrashLoopingMemberIsNamedWithItsOwnMessage) {
  ZkCluster c = makeCluster(3, 1);
  Observed o = healthy(c, kHash);
  ObservedMember& bad = find(o, observerMember(c, 0).name);
  bad.ready = false;
  bad.role = MemberRole::kUnknown;
  bad.crashLoop = "exits with code 2: tickTime: not a number";
  Plan p = step(c, o);
  const Condition& d = conditionOf(p.status, "Degraded");
  EXPECT_EQ(d.reason, "MemberCrashLooping");
  EXPECT_EQ(d.message, observerMember(c, 0).name + ": exits with code 2: tickTime: not a number");
  EXPECT_EQ(events(p, "MemberCrashLooping"), 1);
}

TEST(OperatorPlanStatus, TheFirstCauseInPrecedenceIsReported) {
  ZkCluster c = makeCluster(3, 0);
  Observed o = healthy(c, kHash);
  o.blockers = {{BlockCause::kPodsNotCreated, "pods"}, {BlockCause::kSecretMissing, "secret"}};
  EXPECT_EQ(conditionOf(step(c, o).status, "Degraded").reason, "SecretMissing");
  EXPECT_TRUE(infoOf(BlockCause::kInvalidConfig).holdsApply);
  EXPECT_STREQ(infoOf(BlockCause::kInvalidConfig).reason, "InvalidConfig");
}

TEST(OperatorPlanStatus, MessagesKeepTheirFirstLineOnly) {
  EXPECT_EQ(firstLine("PersistentVolumeClaim \"x\" is invalid: spec: Forbidden: immutable\n"
                      "  core.PersistentVolumeClaimSpec{\n  -  a,\n  }\n"),
            "PersistentVolumeClaim \"x\" is invalid: spec: Forbidden: immutable");
  EXPECT_EQ(firstLine("one line"), "one line");
  EXPECT_EQ(firstLine("\nnothing on the first"), "");
  EXPECT_EQ(firstLine(std::string(600, 'x')).size(), 515u);
}

// The roll restarted the leader: the two others are up and electing; no quorum for a moment is
// planned, not lost.
TEST(OperatorPlanStatus, TheLeadersPlannedRestartRaisesNoQuorumWarning) {
  ZkCluster c = makeCluster(3, 0);
  c.status.roll = {
      kHash, {voterMember(c, 1).name, voterMember(c, 2).name}, voterMember(c, 0).name, 100, false};
  c.status.conditions = {{"Available", "True", "QuorumHealthy", "", 4, "t0"},
                         {"Degraded", "False", "AsExpected", "", 4, "t0"}};
  Observed o = healthy(c, kHash, 0);
  find(o, voterMember(c, 0).name).exists = false;
  find(o, voterMember(c, 0).name).running = false;
  for (int i = 1; i < 3; ++i) {
    find(o, voterMember(c, i).name).ready = false;  // looking: not serving during the election
    find(o, voterMember(c, i).name).role = MemberRole::kUnknown;
  }
  ZkCluster again = c;
  Plan p = step(c, o);
  EXPECT_EQ(events(p, "QuorumLost"), 0);
  EXPECT_EQ(events(p, "QuorumUnhealthy"), 0);
  EXPECT_EQ(conditionOf(p.status, "Degraded").status, "False");
  EXPECT_EQ(conditionOf(p.status, "Available").status, "False") << "it is unavailable, though";
  EXPECT_EQ(p.status.phase, "Rolling");
  // One of the others' pods is gone too: that is no longer the planned restart.
  find(o, voterMember(c, 2).name).running = false;
  Plan lost = step(again, o);
  EXPECT_EQ(events(lost, "QuorumLost"), 1);
  EXPECT_EQ(conditionOf(lost.status, "Degraded").reason, "QuorumUnhealthy");
}

TEST(OperatorPlanStatus, AMemberDownOnOnePassOnlyIsNotYetDegraded) {
  ZkCluster c = makeCluster(3, 1);
  Observed o = healthy(c, kHash);
  step(c, o);  // the status lists every member ready
  ObservedMember& observer = find(o, observerMember(c, 0).name);
  observer.ready = false;  // e.g. reconnecting right after reconfig added it
  Plan first = step(c, o);
  EXPECT_EQ(conditionOf(first.status, "Degraded").status, "False");
  EXPECT_EQ(events(first, "MembersNotReady"), 0);
  EXPECT_FALSE(actionsOf<Wait>(first).empty()) << "looked at again soon";
  Plan second = step(c, o);
  EXPECT_EQ(conditionOf(second.status, "Degraded").reason, "MembersNotReady");
  EXPECT_EQ(events(second, "MembersNotReady"), 1);
}

// The roll's last restart (the leader) is back in sync and the roll completes, while a follower
// and the observer are still re-syncing with the new leader: they were down on purpose on the
// last pass, so they get this pass to come back before they count.
TEST(OperatorPlanStatus, MembersResyncingAfterTheRollsLastRestartGetAPass) {
  ZkCluster c = makeCluster(3, 1);
  c.status.roll = {kHash,
                   {observerMember(c, 0).name, voterMember(c, 1).name, voterMember(c, 2).name},
                   voterMember(c, 0).name,
                   100,
                   false};
  c.status.conditions = {{"Available", "True", "QuorumHealthy", "", 4, "t0"},
                         {"Degraded", "False", "AsExpected", "", 4, "t0"}};
  Observed o = healthy(c, kHash, 1);
  ObservedMember& restarted = find(o, voterMember(c, 0).name);
  restarted.ready = false;  // the leader the roll restarted: starting
  restarted.role = MemberRole::kUnknown;
  for (const std::string& name : {voterMember(c, 2).name, observerMember(c, 0).name}) {
    find(o, name).ready = false;  // re-syncing with the new leader
    find(o, name).role = MemberRole::kUnknown;
  }
  Plan settling = step(c, o);
  EXPECT_EQ(conditionOf(settling.status, "Degraded").status, "False");
  EXPECT_TRUE(settling.status.members[2].plannedDown);
  // The restarted member is back in sync: the roll completes, the two are still re-syncing.
  restarted.ready = true;
  restarted.role = MemberRole::kFollower;
  Plan completed = step(c, o);
  EXPECT_TRUE(completed.status.roll.completed);
  EXPECT_EQ(conditionOf(completed.status, "Degraded").status, "False");
  EXPECT_EQ(events(completed, "MembersNotReady"), 0) << "planned, not a degradation";
  EXPECT_FALSE(actionsOf<Wait>(completed).empty()) << "looked at again soon";
  EXPECT_FALSE(completed.status.members[2].plannedDown);
  Plan still = step(c, o);
  EXPECT_EQ(conditionOf(still.status, "Degraded").reason, "MembersNotReady");
  EXPECT_EQ(events(still, "MembersNotReady"), 1);
}

// An observer starts before the reconfig adds it (not serving: not in the ensemble yet), and
// reconnects once the reconfig has added it.
TEST(OperatorPlanStatus, AnObserverJustAddedByReconfigGetsAPassToReconnect) {
  ZkCluster c = makeCluster(3, 1);
  c.status.observers = 0;
  Observed o = healthy(c, kHash);
  o.ensemble->observers.clear();
  ObservedMember& observer = find(o, observerMember(c, 0).name);
  observer.ready = false;
  observer.role = MemberRole::kUnknown;
  Plan joining = step(c, o);
  EXPECT_EQ(actionsOf<ReconfigAdd>(joining).size(), 1u);
  EXPECT_TRUE(joining.status.members[3].plannedDown);
  o.ensemble->observers.insert(kObserverIdBase);  // the reconfig committed
  Plan added = step(c, o);
  EXPECT_EQ(conditionOf(added.status, "Degraded").status, "False");
  EXPECT_EQ(events(added, "MembersNotReady"), 0);
  Plan still = step(c, o);
  EXPECT_EQ(events(still, "MembersNotReady"), 1) << "a second pass down counts";
}

// The third voter of a new ensemble takes longer to start than the pass that saw the quorum
// form: while its process is younger than the join grace it is joining, not down; past it, or
// crash-looping, it counts.
TEST(OperatorPlanStatus, AMemberStartedWithinTheJoinGraceIsJoiningNotDown) {
  ZkCluster c = makeCluster(3, 0);
  c.spec.config["initLimit"] = "5";  // tickTime 2000: a grace of 2 x 5 x 2 s
  ASSERT_EQ(joinGraceSeconds(c), 20);
  Observed o = healthy(c, kHash);
  step(c, o);  // Running, every member ready
  ObservedMember& late = find(o, voterMember(c, 2).name);
  late.ready = false;
  late.role = MemberRole::kUnknown;
  late.upSeconds = 3;
  for (int pass = 0; pass < 3; ++pass) {
    Plan joining = step(c, o);
    EXPECT_EQ(conditionOf(joining.status, "Degraded").status, "False") << pass;
    EXPECT_EQ(events(joining, "MembersNotReady"), 0) << pass;
    ASSERT_FALSE(actionsOf<Wait>(joining).empty()) << "looked at again soon";
  }
  late.upSeconds = 20;  // the grace is over
  Plan over = step(c, o);
  EXPECT_EQ(conditionOf(over.status, "Degraded").reason, "MembersNotReady");
  EXPECT_EQ(events(over, "MembersNotReady"), 1);
}

TEST(OperatorPlanStatus, AYoungMemberThatCrashLoopsIsNotJoining) {
  ZkCluster c = makeCluster(3, 0);
  Observed o = healthy(c, kHash);
  step(c, o);
  ObservedMember& failing = find(o, voterMember(c, 2).name);
  failing.ready = false;
  failing.role = MemberRole::kUnknown;
  failing.upSeconds = 1;
  failing.crashLoop = "exits with code 1: no key for zk/zk-2 in keytab";
  step(c, o);  // the first pass down gets its look
  Plan crashing = step(c, o);
  EXPECT_EQ(conditionOf(crashing.status, "Degraded").status, "True");
}

}  // namespace
}  // namespace zk::op

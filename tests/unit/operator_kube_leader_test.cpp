// Leader election's rules (kube/leader_election.h) on a fake clock: validity measured from when
// this candidate saw the holder's record change, never from the holder's clock; the renew
// deadline; takeover only after the lease duration. Compiled only with zk_operator_kube.
#ifdef ZOOKUBE_HAVE_KUBE

#include <gtest/gtest.h>

#include "kube/leader_election.h"

namespace zk::op::kube {
namespace {

using namespace std::chrono_literals;
using Time = LeaderElection::Time;

const LeaseTimings kTimings{15s, 10s, 2s};

LeaseRecord heldBy(const std::string& holder, const std::string& renewTime) {
  return {holder, 15, "2020-01-01T00:00:00.000000Z", renewTime, 0};
}

TEST(LeaderElection, AFreeOrMissingLeaseMayBeTakenAtOnce) {
  LeaderElection e("me", kTimings);
  Time t0{};
  e.observe(std::nullopt, t0);
  EXPECT_TRUE(e.mayWrite(t0));
  e.observe(LeaseRecord{"", 1, "", "2020-01-01T00:00:00Z", 3}, t0 + 1s);
  EXPECT_TRUE(e.mayWrite(t0 + 1s));
  EXPECT_FALSE(e.leading(t0 + 1s));
}

TEST(LeaderElection, AnotherHoldersLeaseIsValidForItsDurationFromWhenWeSawItChange) {
  LeaderElection e("me", kTimings);
  Time t0 = Time{} + 1000s;
  // Its renewTime is years old by any wall clock: skew does not matter, only our observation.
  e.observe(heldBy("other", "1999-01-01T00:00:00.000000Z"), t0);
  EXPECT_FALSE(e.mayWrite(t0));
  EXPECT_EQ(e.otherHolder(), "other");
  // Seen unchanged for 14 s: still valid. The holder renews: the clock starts again.
  e.observe(heldBy("other", "1999-01-01T00:00:00.000000Z"), t0 + 14s);
  EXPECT_FALSE(e.mayWrite(t0 + 14s));
  e.observe(heldBy("other", "1999-01-01T00:00:14.000000Z"), t0 + 14s);
  EXPECT_FALSE(e.mayWrite(t0 + 28s));
  EXPECT_TRUE(e.mayWrite(t0 + 29s)) << "15 s without a change: expired";
}

TEST(LeaderElection, TheLeaderStopsLeadingAtTheRenewDeadlineBeforeAnyoneMayTakeOver) {
  LeaderElection me("me", kTimings);
  LeaderElection standby("other", kTimings);
  Time t0 = Time{} + 50s;
  LeaseRecord mine = heldBy("me", "2020-01-01T00:00:00.000000Z");
  me.observe(std::nullopt, t0);
  me.renewed(mine, t0);
  standby.observe(mine, t0);
  EXPECT_TRUE(me.leading(t0 + 9s));
  // Every renewal fails from here on (the API server does not answer).
  EXPECT_FALSE(me.leading(t0 + 10s)) << "the renew deadline has passed";
  EXPECT_FALSE(standby.mayWrite(t0 + 10s)) << "no overlap: the standby still waits";
  EXPECT_TRUE(standby.mayWrite(t0 + 15s));
  // A renewal that succeeds in time keeps it leading.
  me.renewed(heldBy("me", "2020-01-01T00:00:09.000000Z"), t0 + 9s);
  EXPECT_TRUE(me.leading(t0 + 18s));
}

TEST(LeaderElection, SeeingAnotherHolderEndsLeadershipAtOnce) {
  LeaderElection e("me", kTimings);
  Time t0{};
  e.renewed(heldBy("me", "2020-01-01T00:00:00.000000Z"), t0);
  EXPECT_TRUE(e.leading(t0 + 1s));
  e.observe(heldBy("other", "2020-01-01T00:00:20.000000Z"), t0 + 2s);
  EXPECT_FALSE(e.leading(t0 + 2s));
  EXPECT_FALSE(e.mayWrite(t0 + 2s));
}

TEST(LeaderElection, OurOwnRecordMayAlwaysBeRenewed) {
  LeaderElection e("me", kTimings);
  Time t0{};
  e.observe(heldBy("me", "2020-01-01T00:00:00.000000Z"), t0);
  EXPECT_TRUE(e.mayWrite(t0)) << "a restarted replica with the same identity renews its Lease";
  EXPECT_FALSE(e.leading(t0)) << "but leads only once its write succeeded";
}

TEST(LeaderElection, AttemptsDescribeWhyNotLeading) {
  EXPECT_EQ(describe({LeaderElector::Outcome::kHeldByOther, "op-a"}),
            "standby: op-a holds the Lease");
  EXPECT_EQ(describe({LeaderElector::Outcome::kFailed, "reading the Lease: 403 forbidden"}),
            "Lease unavailable: reading the Lease: 403 forbidden");
}

}  // namespace
}  // namespace zk::op::kube

#endif  // ZOOKUBE_HAVE_KUBE

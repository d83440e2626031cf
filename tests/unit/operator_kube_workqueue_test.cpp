// The controller's work queue and its rate limiter, on an injected clock: nothing here sleeps.
#ifdef ZOOKUBE_HAVE_KUBE

#include <gtest/gtest.h>

#include "kube/work_queue.h"

namespace zk::op::kube {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const SteadyTime t0{};

TEST(WorkQueue, HandsOutKeysInOrderAndCoalescesAdds) {
  WorkQueue q({}, t0);
  q.add("ns/a");
  q.add("ns/b");
  q.add("ns/a");
  EXPECT_EQ(q.ready(), 2u);
  EXPECT_EQ(q.pop(t0), "ns/a");
  EXPECT_EQ(q.pop(t0), "ns/b");
  EXPECT_EQ(q.pop(t0), std::nullopt);
}

TEST(WorkQueue, AKeyBeingProcessedIsNotHandedOutAgainUntilDone) {
  WorkQueue q({}, t0);
  q.add("k");
  ASSERT_EQ(q.pop(t0), "k");
  q.add("k");
  q.add("k");  // both re-adds while processing make one more run
  EXPECT_EQ(q.pop(t0), std::nullopt);
  EXPECT_TRUE(q.processing("k"));
  q.done("k");
  EXPECT_EQ(q.pop(t0), "k");
  q.done("k");
  EXPECT_EQ(q.pop(t0), std::nullopt);
}

TEST(WorkQueue, DoneWithoutAReAddDropsTheKey) {
  WorkQueue q({}, t0);
  q.add("k");
  ASSERT_EQ(q.pop(t0), "k");
  q.done("k");
  EXPECT_FALSE(q.processing("k"));
  EXPECT_EQ(q.pop(t0 + seconds(5000)), std::nullopt);
}

TEST(WorkQueue, FailuresBackOffExponentiallyPerKey) {
  WorkQueue q({}, t0);
  SteadyTime now = t0;
  for (Duration want : {milliseconds(5), milliseconds(10), milliseconds(20), milliseconds(40)}) {
    q.addRateLimited("k", now);
    EXPECT_EQ(q.nextDelayed(), now + want);
    EXPECT_EQ(q.pop(now + want - milliseconds(1)), std::nullopt);
    ASSERT_EQ(q.pop(now + want), "k");
    q.done("k");
    now += want;
  }
  EXPECT_EQ(q.failures("k"), 4);
  q.addRateLimited("other", now);  // another key starts from the base delay
  EXPECT_EQ(q.nextDelayed(), now + milliseconds(5));
}

TEST(WorkQueue, ForgetStartsTheBackoffOver) {
  WorkQueue q({}, t0);
  q.addRateLimited("k", t0);
  q.addRateLimited("k", t0);
  EXPECT_EQ(q.failures("k"), 2);
  q.forget("k");
  EXPECT_EQ(q.failures("k"), 0);
  ASSERT_EQ(q.pop(t0 + milliseconds(5)), "k");
  q.done("k");
  q.addRateLimited("k", t0 + seconds(1));
  EXPECT_EQ(q.nextDelayed(), t0 + seconds(1) + milliseconds(5));
}

TEST(WorkQueue, TheBackoffStopsAtItsCap) {
  RateLimiter limiter({.baseDelay = milliseconds(5), .maxDelay = seconds(1000)}, t0);
  Duration last{};
  for (int i = 0; i < 100; ++i) last = limiter.when("k", t0 + seconds(i));
  EXPECT_EQ(last, seconds(1000));  // 5 ms * 2^99 would overflow; it stays at the cap
  EXPECT_EQ(limiter.failures("k"), 100);
}

TEST(WorkQueue, TheOverallBucketLimitsRetriesAcrossKeys) {
  RateLimiter limiter({.baseDelay = milliseconds(1), .maxDelay = seconds(1), .qps = 10, .burst = 2},
                      t0);
  EXPECT_EQ(limiter.when("a", t0), milliseconds(1));
  EXPECT_EQ(limiter.when("b", t0), milliseconds(1));
  // The burst is spent: the third retry waits for a token at 10 per second.
  EXPECT_EQ(std::chrono::duration_cast<milliseconds>(limiter.when("c", t0)), milliseconds(100));
  EXPECT_EQ(std::chrono::duration_cast<milliseconds>(limiter.when("d", t0)), milliseconds(200));
  // A second later the bucket has refilled.
  EXPECT_EQ(limiter.when("e", t0 + seconds(2)), milliseconds(1));
}

TEST(WorkQueue, AnAddBeatsAPendingRetry) {
  WorkQueue q({}, t0);
  for (int i = 0; i < 10; ++i) q.addRateLimited("k", t0);  // backoff now far out
  q.add("k");                                              // a watch event: process now
  EXPECT_EQ(q.pop(t0), "k");
  q.done("k");
  EXPECT_EQ(q.nextDelayed(), std::nullopt);
}

TEST(WorkQueue, TheEarliestDelayWins) {
  WorkQueue q({}, t0);
  q.addAfter("k", seconds(10), t0);
  q.addAfter("k", seconds(3), t0);
  q.addAfter("k", seconds(7), t0);
  EXPECT_EQ(q.nextDelayed(), t0 + seconds(3));
  EXPECT_EQ(q.pop(t0 + seconds(3)), "k");
  q.done("k");
  EXPECT_EQ(q.pop(t0 + seconds(10)), std::nullopt);
}

TEST(WorkQueue, ARetryDueWhileProcessingRunsOnceAfterDone) {
  WorkQueue q({}, t0);
  q.add("k");
  ASSERT_EQ(q.pop(t0), "k");
  q.addAfter("k", milliseconds(5), t0);
  EXPECT_EQ(q.pop(t0 + milliseconds(5)), std::nullopt);  // still processing
  q.done("k");
  EXPECT_EQ(q.pop(t0 + milliseconds(5)), "k");
}

}  // namespace
}  // namespace zk::op::kube

#endif  // ZOOKUBE_HAVE_KUBE

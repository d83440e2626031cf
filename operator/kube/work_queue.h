#pragma once
// The controller's work queue, with the semantics of client-go's rate-limited workqueue, as a
// pure value: every call takes the time, nothing sleeps or locks (controller.h adds the lock and
// the waiting).
//
// - A key is handed to one worker at a time: a key taken with pop() is not handed out again
//   until done() is called for it.
// - Adds coalesce: a key already waiting is not queued twice, and a key added while it is being
//   processed is queued once, when done() is called.
// - A failed key comes back after a per-key exponential backoff (addRateLimited), also bounded by
//   an overall token bucket; forget() resets its backoff once it succeeds.

#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>

namespace zk::op::kube {

using SteadyTime = std::chrono::steady_clock::time_point;
using Duration = std::chrono::steady_clock::duration;

struct RateLimit {
  Duration baseDelay = std::chrono::milliseconds(5);  // the first retry; doubles each failure
  Duration maxDelay = std::chrono::seconds(1000);
  double qps = 10;  // the overall bucket: sustained retries per second, and its burst
  int burst = 100;
};

// client-go's ItemExponentialFailureRateLimiter and BucketRateLimiter combined by taking the
// larger delay, as its DefaultControllerRateLimiter does.
class RateLimiter {
 public:
  explicit RateLimiter(RateLimit limit, SteadyTime start);

  // The delay before `key`'s next retry; counts one more failure of it.
  Duration when(const std::string& key, SteadyTime now);
  void forget(const std::string& key) { failures_.erase(key); }
  int failures(const std::string& key) const;

 private:
  Duration backoff(int failures) const;
  Duration reserveToken(SteadyTime now);

  RateLimit limit_;
  std::map<std::string, int> failures_;
  double tokens_;
  SteadyTime refilled_;
};

class WorkQueue {
 public:
  explicit WorkQueue(RateLimit limit = {}, SteadyTime start = std::chrono::steady_clock::now())
      : limiter_(limit, start) {}

  void add(const std::string& key);
  // Adds `key` once `delay` has passed; an earlier pending time for it wins.
  void addAfter(const std::string& key, Duration delay, SteadyTime now);
  // Adds `key` after its backoff (a failure of it).
  void addRateLimited(const std::string& key, SteadyTime now);
  // The key's backoff starts over (it succeeded).
  void forget(const std::string& key) { limiter_.forget(key); }
  int failures(const std::string& key) const { return limiter_.failures(key); }

  // The next key to process, which is then this caller's until done(); nullopt when no key is
  // ready at `now`.
  std::optional<std::string> pop(SteadyTime now);
  void done(const std::string& key);

  // When a delayed key becomes ready; nullopt when none is delayed.
  std::optional<SteadyTime> nextDelayed() const;
  size_t ready() const { return queue_.size(); }
  bool processing(const std::string& key) const { return processing_.contains(key); }

 private:
  void promote(SteadyTime now);

  RateLimiter limiter_;
  std::deque<std::string> queue_;
  std::set<std::string> dirty_;       // needs processing: queued, or re-queued at done()
  std::set<std::string> processing_;  // handed out, not done yet
  std::map<std::string, SteadyTime> delayed_;
};

}  // namespace zk::op::kube

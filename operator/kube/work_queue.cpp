#include "kube/work_queue.h"

#include <algorithm>

namespace zk::op::kube {

RateLimiter::RateLimiter(RateLimit limit, SteadyTime start)
    : limit_(limit), tokens_(limit.burst), refilled_(start) {}

Duration RateLimiter::when(const std::string& key, SteadyTime now) {
  int failed = failures_[key]++;
  return std::max(backoff(failed), reserveToken(now));
}

int RateLimiter::failures(const std::string& key) const {
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

Duration RateLimiter::backoff(int failures) const {
  // Doubling past the cap would overflow long before 64 failures; stop at the cap.
  Duration delay = limit_.baseDelay;
  for (int i = 0; i < failures && delay < limit_.maxDelay; ++i) delay *= 2;
  return std::min(delay, limit_.maxDelay);
}

// A token bucket that may go into debt, as Go's rate.Limiter.Reserve: the caller waits until the
// debt is paid back at `qps`.
Duration RateLimiter::reserveToken(SteadyTime now) {
  if (now > refilled_) {
    std::chrono::duration<double> elapsed = now - refilled_;
    tokens_ = std::min<double>(limit_.burst, tokens_ + elapsed.count() * limit_.qps);
    refilled_ = now;
  }
  tokens_ -= 1;
  if (tokens_ >= 0) return Duration::zero();
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(-tokens_ / limit_.qps));
}

void WorkQueue::add(const std::string& key) {
  delayed_.erase(key);  // it is due now; a pending retry would only process it again
  if (!dirty_.insert(key).second) return;
  if (!processing_.contains(key)) queue_.push_back(key);
}

void WorkQueue::addAfter(const std::string& key, Duration delay, SteadyTime now) {
  if (delay <= Duration::zero()) {
    add(key);
    return;
  }
  if (dirty_.contains(key)) return;  // it will be processed anyway, sooner
  SteadyTime at = now + delay;
  auto [it, inserted] = delayed_.emplace(key, at);
  if (!inserted) it->second = std::min(it->second, at);
}

void WorkQueue::addRateLimited(const std::string& key, SteadyTime now) {
  addAfter(key, limiter_.when(key, now), now);
}

void WorkQueue::promote(SteadyTime now) {
  for (auto it = delayed_.begin(); it != delayed_.end();) {
    if (it->second > now) {
      ++it;
      continue;
    }
    std::string key = it->first;
    it = delayed_.erase(it);
    add(key);
  }
}

std::optional<std::string> WorkQueue::pop(SteadyTime now) {
  promote(now);
  if (queue_.empty()) return std::nullopt;
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  processing_.insert(key);
  dirty_.erase(key);
  return key;
}

void WorkQueue::done(const std::string& key) {
  processing_.erase(key);
  if (dirty_.contains(key)) queue_.push_back(key);
}

std::optional<SteadyTime> WorkQueue::nextDelayed() const {
  std::optional<SteadyTime> next;
  for (const auto& [key, at] : delayed_) {
    if (!next || at < *next) next = at;
  }
  return next;
}

}  // namespace zk::op::kube

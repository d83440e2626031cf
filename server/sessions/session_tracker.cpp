#include "sessions/session_tracker.h"

#include <algorithm>

namespace zk {
namespace {

// java.util.Random, because ZooKeeper seeds one with (sessionId ^ superSecret) to make the
// password; matching it keeps sessions portable between zookube and ZooKeeper members.
class JavaRandom {
 public:
  explicit JavaRandom(std::int64_t seed)
      : seed_((static_cast<std::uint64_t>(seed) ^ kMultiplier) & kMask) {}
  std::int32_t nextInt() {
    seed_ = (seed_ * kMultiplier + 0xB) & kMask;
    return static_cast<std::int32_t>(seed_ >> 16);
  }

 private:
  static constexpr std::uint64_t kMultiplier = 0x5DEECE66DULL;
  static constexpr std::uint64_t kMask = (1ULL << 48) - 1;
  std::uint64_t seed_;
};

constexpr std::int64_t kSuperSecret = 0XB3415C00L;

}  // namespace

SessionTracker::SessionTracker(std::int64_t serverId, std::int32_t tickMs, std::int64_t nowMs)
    : tickMs_(std::max(tickMs, 1)) {
  auto shifted = static_cast<std::uint64_t>(nowMs) << 24;
  nextId_ =
      static_cast<std::int64_t>((shifted >> 8) | (static_cast<std::uint64_t>(serverId) << 56));
}

std::int64_t SessionTracker::nextSessionId() {
  while (nextId_ == 0 || sessions_.contains(nextId_)) ++nextId_;
  return nextId_++;
}

std::string SessionTracker::passwordFor(std::int64_t sessionId) {
  JavaRandom random(sessionId ^ kSuperSecret);
  std::string passwd(16, '\0');
  for (std::size_t i = 0; i < passwd.size();) {
    std::int32_t rnd = random.nextInt();
    for (int n = 0; n < 4 && i < passwd.size(); ++n, rnd >>= 8)
      passwd[i++] = static_cast<char>(rnd);
  }
  return passwd;
}

std::int64_t SessionTracker::roundToBucket(std::int64_t deadlineMs) const {
  return (deadlineMs / tickMs_ + 1) * tickMs_;
}

void SessionTracker::moveToBucket(std::int64_t id, Entry& entry, std::int64_t bucket) {
  if (entry.bucket == bucket) return;
  if (auto it = buckets_.find(entry.bucket); it != buckets_.end()) {
    it->second.erase(id);
    if (it->second.empty()) buckets_.erase(it);
  }
  entry.bucket = bucket;
  buckets_[bucket].insert(id);
}

void SessionTracker::add(std::int64_t id, std::int32_t timeoutMs, std::int64_t nowMs) {
  auto& entry = sessions_[id];
  entry.timeoutMs = timeoutMs;
  entry.closing = false;
  moveToBucket(id, entry, roundToBucket(nowMs + timeoutMs));
}

bool SessionTracker::touch(std::int64_t id, std::int64_t nowMs) {
  auto it = sessions_.find(id);
  if (it == sessions_.end() || it->second.closing) return false;
  moveToBucket(id, it->second, roundToBucket(nowMs + it->second.timeoutMs));
  return true;
}

void SessionTracker::setTimeout(std::int64_t id, std::int32_t timeoutMs) {
  if (auto it = sessions_.find(id); it != sessions_.end()) it->second.timeoutMs = timeoutMs;
}

void SessionTracker::remove(std::int64_t id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  if (auto b = buckets_.find(it->second.bucket); b != buckets_.end()) {
    b->second.erase(id);
    if (b->second.empty()) buckets_.erase(b);
  }
  sessions_.erase(it);
}

void SessionTracker::markClosing(std::int64_t id) {
  if (auto it = sessions_.find(id); it != sessions_.end()) it->second.closing = true;
}

bool SessionTracker::isClosing(std::int64_t id) const {
  auto it = sessions_.find(id);
  return it != sessions_.end() && it->second.closing;
}

std::int32_t SessionTracker::timeoutOf(std::int64_t id) const {
  auto it = sessions_.find(id);
  return it == sessions_.end() ? 0 : it->second.timeoutMs;
}

std::vector<std::int64_t> SessionTracker::takeExpired(std::int64_t nowMs) {
  std::vector<std::int64_t> expired;
  while (!buckets_.empty() && buckets_.begin()->first <= nowMs) {
    for (std::int64_t id : buckets_.begin()->second) {
      auto& entry = sessions_.at(id);
      if (!entry.closing) expired.push_back(id);
      entry.closing = true;
      entry.bucket = 0;
    }
    buckets_.erase(buckets_.begin());
  }
  return expired;
}

}  // namespace zk

#pragma once
// Session bookkeeping: id allocation, passwords, and expiry in tick-rounded buckets
// (ZooKeeper's SessionTrackerImpl + ExpiryQueue). Time is passed in, never read here.

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace zk {

class SessionTracker {
 public:
  SessionTracker(std::int64_t serverId, std::int32_t tickMs, std::int64_t nowMs);

  // Ids are unique across restarts and servers: high byte server id, then the start time.
  std::int64_t nextSessionId();
  // The password is derived from the id (as ZooKeeper derives it), so a session survives a
  // restart without storing secrets, and ZooKeeper members would accept the same password.
  static std::string passwordFor(std::int64_t sessionId);

  void add(std::int64_t id, std::int32_t timeoutMs, std::int64_t nowMs);
  // Pushes the deadline out; false if the session is unknown or already closing.
  bool touch(std::int64_t id, std::int64_t nowMs);
  void setTimeout(std::int64_t id, std::int32_t timeoutMs);
  void remove(std::int64_t id);
  // Marks a session as closing so it is not expired twice while its close is in flight.
  void markClosing(std::int64_t id);

  // Sessions whose deadline has passed; they are marked closing.
  std::vector<std::int64_t> takeExpired(std::int64_t nowMs);

  bool contains(std::int64_t id) const { return sessions_.contains(id); }
  bool isClosing(std::int64_t id) const;
  std::int32_t timeoutOf(std::int64_t id) const;
  std::size_t size() const { return sessions_.size(); }
  const auto& all() const { return sessions_; }

  struct Entry {
    std::int32_t timeoutMs = 0;
    std::int64_t bucket = 0;
    bool closing = false;
  };

 private:
  std::int64_t roundToBucket(std::int64_t deadlineMs) const;
  void moveToBucket(std::int64_t id, Entry& entry, std::int64_t bucket);

  std::int32_t tickMs_;
  std::int64_t nextId_;
  std::unordered_map<std::int64_t, Entry> sessions_;
  std::map<std::int64_t, std::unordered_set<std::int64_t>> buckets_;
};

}  // namespace zk

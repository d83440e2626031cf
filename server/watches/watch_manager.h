#pragma once
// Watches per session: one-shot data and child watches, persistent and persistent-recursive
// watches (ZooKeeper's WatchManager pair for data and child watches, with the 3.9 rule that
// several modes may coexist on one path for one session).

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "protocol/opcodes.h"
#include "protocol/records.h"
#include "tree/data_tree.h"

namespace zk {

struct Delivery {
  std::int64_t session;
  WatcherEvent event;
};

// What a session has armed, in the lists a SetWatches2 request carries.
struct SessionWatches {
  std::vector<std::string> data;
  std::vector<std::string> child;
  std::vector<std::string> persistent;
  std::vector<std::string> persistentRecursive;
};

class WatchManager {
 public:
  // Watch kinds a session can hold on one path, any combination at once.
  enum Mode : std::uint8_t {
    kData = 1,
    kChild = 2,
    kPersistent = 4,
    kRecursive = 8,
    kAllModes = 15
  };

  // getData/exists (exists also on a missing node, to hear its creation).
  void addDataWatch(std::string_view path, std::int64_t session);
  // getChildren.
  void addChildWatch(std::string_view path, std::int64_t session);
  // addWatch: persistent watches stay armed after firing.
  void addPersistentWatch(std::string_view path, std::int64_t session, bool recursive);

  // One delivery per watching session, removing the one-shot watches that fired.
  // NodeChildrenChanged reaches child and persistent watches on the path only; the other
  // events reach data (and for NodeDeleted child) watches and persistent watches on the path,
  // and recursive watches on the path and every ancestor.
  std::vector<Delivery> trigger(const WatchTrigger& trigger);

  // checkWatches/removeWatches. kData/kChildren mean the one-shot kinds, kPersistent and
  // kPersistentRecursive those modes, kAny every watch the session has on the path.
  bool contains(std::int64_t session, std::string_view path, WatcherType type) const;
  bool remove(std::int64_t session, std::string_view path, WatcherType type);
  // The connection went away: all its watches go (the client re-arms with setWatches).
  void removeSession(std::int64_t session);

  // For wchs/wchc/wchp and metrics. A (session, path) pair counts once whatever its modes.
  std::size_t watchCount() const { return watchCount_; }
  std::size_t watchedPathCount() const { return byPath_.size(); }
  std::size_t sessionCount() const { return bySession_.size(); }
  std::map<std::int64_t, std::vector<std::string>> pathsBySession() const;
  std::map<std::string, std::vector<std::int64_t>> sessionsByPath() const;
  SessionWatches watchesOf(std::int64_t session) const;

 private:
  void add(std::string_view path, std::int64_t session, std::uint8_t modes);
  // Clears `modes`; drops the pair when nothing is left. Returns the modes that were set.
  std::uint8_t clear(const std::string& path, std::int64_t session, std::uint8_t modes);
  void fireAt(const std::string& path, std::uint8_t fires, std::uint8_t consumes,
              std::unordered_set<std::int64_t>& sessions);

  std::unordered_map<std::string, std::unordered_map<std::int64_t, std::uint8_t>> byPath_;
  std::unordered_map<std::int64_t, std::unordered_set<std::string>> bySession_;
  std::size_t watchCount_ = 0;
  std::size_t recursiveCount_ = 0;  // skips the ancestor walk while no recursive watch exists
};

}  // namespace zk

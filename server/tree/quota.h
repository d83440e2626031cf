#pragma once
// ZooKeeper's quotas as its DataTree keeps them (3.7+): a quota on path P is the node
// /zookeeper/quota/P/zookeeper_limits, whose data says the limits, beside
// /zookeeper/quota/P/zookeeper_stats, whose data the tree keeps equal to the number of nodes in
// P's subtree (P included) and the bytes of their data. Clients (zkCli's setquota) create both
// nodes; every member then maintains the stats on each create, delete and setData under P,
// outside of any txn, exactly as ZooKeeper does, so the data is the same on disk and on the wire.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace zk::quota {

inline constexpr std::string_view kRoot = "/zookeeper/quota";
inline constexpr std::string_view kLimitNode = "zookeeper_limits";
inline constexpr std::string_view kStatNode = "zookeeper_stats";

std::string limitPath(std::string_view path);  // /zookeeper/quota<path>/zookeeper_limits
std::string statPath(std::string_view path);   // /zookeeper/quota<path>/zookeeper_stats

// The "count=..,bytes=.." text of both nodes (ZooKeeper's StatsTrack). A key it lacks reads -1.
// Keys other than count and bytes (the hard limits) follow sorted after an extra '=', which old
// parsers ignore: "count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=5".
class StatsTrack {
 public:
  // Pairs separated by ',' or ';'; "key=" reads -1. A pair that is not key=number is skipped
  // (ZooKeeper would throw while applying a txn; every member skips it alike here).
  static StatsTrack parse(std::string_view text);
  std::string format() const;

  std::int64_t get(std::string_view key) const;
  void set(std::string_view key, std::int64_t value) { values_[std::string(key)] = value; }
  std::int64_t count() const { return get("count"); }
  std::int64_t bytes() const { return get("bytes"); }
  std::int64_t countHardLimit() const { return get("countHardLimit"); }
  std::int64_t byteHardLimit() const { return get("byteHardLimit"); }

 private:
  std::map<std::string, std::int64_t, std::less<>> values_;
};

// The paths that have a quota (a zookeeper_limits node): ZooKeeper's PathTrie.
class QuotaRoots {
 public:
  void add(std::string_view path);
  void remove(std::string_view path);
  void clear() { roots_.clear(); }
  bool empty() const { return roots_.empty(); }
  // The deepest quota root that is `path` or one of its ancestors (by whole components);
  // nullopt when none, or when it would be "/" (ZooKeeper keeps no quota on the root).
  std::optional<std::string_view> governing(std::string_view path) const;
  const std::set<std::string, std::less<>>& all() const { return roots_; }

 private:
  std::set<std::string, std::less<>> roots_;
};

// What ZooKeeper's quota metrics report for the quotas of one top-level path component: the
// limits (a hard one where set, else the soft one) and the stats, each summed.
struct NamespaceQuota {
  std::int64_t countLimit = 0;
  std::int64_t bytesLimit = 0;
  std::int64_t countUsage = 0;
  std::int64_t bytesUsage = 0;
};

// "/a/b" -> "a", "/" -> "" (ZooKeeper's PathUtils.getTopNamespace).
std::string_view topNamespace(std::string_view path);

// For a node created or deleted at `path`, the quota root whose zookeeper_limits (or, with
// `node` = kStatNode, zookeeper_stats) node it is; nullopt for every other node.
std::optional<std::string_view> quotaNodeOwner(std::string_view path, std::string_view node);

}  // namespace zk::quota

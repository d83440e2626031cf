#pragma once
// The in-memory znode tree (ZooKeeper's DataTree): nodes keyed by full path in PathLess order,
// transaction application with ZooKeeper's exact stat and replay rules, and the bookkeeping
// of ephemerals, containers and TTL nodes. Single-threaded; time only arrives in txn headers
// and arguments.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "protocol/errors.h"
#include "protocol/opcodes.h"
#include "protocol/records.h"
#include "protocol/txn.h"
#include "tree/acl_cache.h"
#include "tree/node_set.h"
#include "tree/path.h"
#include "tree/quota.h"

namespace zk {

struct WatchTrigger {
  std::string path;
  EventType type;
};
struct OpResult {
  Err err = Err::kOk;
  std::int32_t type = 0;
  std::string path;  // the path operated on (the created path for creates)
  Stat stat;         // the node's stat after the operation, when it still exists
};
struct ApplyResult {
  Err err = Err::kOk;
  std::string path;
  Stat stat;
  std::vector<OpResult> multi;
  std::vector<WatchTrigger> triggers;  // in the order they must fire
};

class DataTree {
 public:
  // Transparent, so a node's path (a view into the node) finds its entry without a copy.
  using PathSet = std::set<std::string, std::less<>>;

  // Root, /zookeeper, /zookeeper/quota and /zookeeper/config, as ZooKeeper starts.
  DataTree();
  DataTree(const DataTree&) = delete;
  DataTree& operator=(const DataTree&) = delete;
  // Moved into place when a member reloads its state (TRUNC, SNAP) under the same owner.
  DataTree(DataTree&&) = default;
  DataTree& operator=(DataTree&&) = default;

  // Reads. "/" finds the root (stored under "").
  const Node* find(std::string_view path) const;
  Stat stat(const Node& node) const;
  const AclList& acl(const Node& node) const;
  // Child names in PathLess order.
  std::vector<std::string> children(const Node& node) const;
  // getAllChildrenNumber: every node below `path` (not counting it).
  std::int64_t countDescendants(std::string_view path) const;
  // getEphemerals: the session's ephemerals whose path starts with `prefix` ("" = all).
  std::vector<std::string> ephemerals(std::int64_t session, std::string_view prefix) const;
  const PathSet* ephemeralPaths(std::int64_t session) const;
  std::vector<std::int64_t> sessionsWithEphemerals() const;
  // Real node count. ZooKeeper's znode_count is one more: it also counts its "/" alias.
  std::size_t nodeCount() const { return nodes_.size(); }
  // Sum of path length + data length over nodes, counting the root twice as ZooKeeper does.
  std::int64_t approximateDataSize() const { return dataSize_; }
  std::int64_t lastProcessedZxid() const { return lastProcessedZxid_; }
  std::size_t containerCount() const { return containers_.size(); }
  std::size_t ttlCount() const { return ttls_.size(); }

  // Containers that had a child once and have none now, and childless TTL nodes whose ttl has
  // passed since their last modification (ZooKeeper's ContainerManager candidates).
  std::vector<std::string> reapable(std::int64_t nowMillis) const;

  // Applies one committed transaction exactly as ZooKeeper's DataTree.processTxn does,
  // including its tolerance of replays over a fuzzy snapshot.
  ApplyResult apply(const Txn& txn);
  // An ensemble member publishes its configuration in /zookeeper/config at start, outside any
  // txn, as ZooKeeper does (mzxid = the configuration's version, version -1).
  void setConfigNode(std::string_view data, std::int64_t version);

  // Snapshot writing: calls fn(path, node) in PathLess order from afterPath (inclusive or
  // not) for at most maxNodes nodes. Returns the last visited path, or nullopt once the end
  // is reached. Safe to resume after the tree changed between calls.
  template <class F>
  std::optional<std::string> visitFrom(std::string_view afterPath, bool inclusive,
                                       std::size_t maxNodes, F&& fn) const {
    auto it = inclusive ? nodes_.lower_bound(afterPath) : nodes_.upper_bound(afterPath);
    for (std::size_t n = 0; n < maxNodes && it != nodes_.end(); ++n, ++it) {
      fn(it->path(), *it);
      if (n + 1 == maxNodes) return std::string(it->path());
    }
    return std::nullopt;
  }

  // Snapshot reading, after clear(): nodes in parent-first order. Throws std::invalid_argument
  // if the parent is missing. Call finishLoad() after the last node.
  void loadNode(std::string_view path, NodeData data, std::int64_t aclRef,
                const StatPersisted& stat);
  // Drops ACL lists no loaded node refers to (as ZooKeeper does after reading a snapshot), and
  // recounts every quota's stats, as ZooKeeper does after loading.
  void finishLoad() {
    loadChain_.clear();
    aclCache_.purgeUnused();
    setupQuotas();
  }
  // The paths with a quota (a zookeeper_limits node under /zookeeper/quota).
  const quota::QuotaRoots& quotaRoots() const { return quotaRoots_; }
  // Quota limits and usage summed by top-level path component (ZooKeeper's quota metrics).
  std::map<std::string, quota::NamespaceQuota, std::less<>> quotaByNamespace() const;
  AclCache& aclCache() { return aclCache_; }
  const AclCache& aclCache() const { return aclCache_; }
  void setLastProcessedZxid(std::int64_t zxid) { lastProcessedZxid_ = zxid; }
  // Empties everything, the root included, ready for loadNode.
  void clear();

 private:
  struct Ctx;  // one txn's header and result sink

  Node* findMutable(std::string_view path);
  NodeSet::iterator insert(NodePtr node);
  // `parent` is the node's parent entry (end() for the root); sortsLast: the path sorts after
  // every key.
  NodeSet::iterator insertUnder(NodeSet::iterator parent, NodePtr node, bool sortsLast);
  // Gives `node` new data; returns it, or the node that replaced it when the length changed.
  Node& replaceData(Node& node, NodeData data);
  void loadNodeSearching(std::string_view path, NodeData data, std::int64_t aclRef,
                         const StatPersisted& stat);
  void track(std::string_view path, std::int64_t owner);
  void untrack(std::string_view path, std::int64_t owner);
  static std::int64_t nodeSize(std::string_view path, std::string_view data);

  template <class Body>
  OpResult applyOp(Ctx& ctx, std::int32_t type, const Body& body);
  Err createNode(Ctx& ctx, std::string_view path, NodeData data, const AclList& acl,
                 std::int64_t owner, std::int32_t parentCVersion, Stat* out);
  Err deleteNode(Ctx& ctx, std::string_view path);
  Err setData(Ctx& ctx, const SetDataTxn& txn, Stat* out);
  Err setAcl(const SetACLTxn& txn, Stat* out);
  Err setCversionPzxid(std::string_view path, std::int32_t cversion, std::int64_t zxid);
  void closeSession(Ctx& ctx, const std::vector<std::string>* listed);
  void applyMulti(Ctx& ctx, const MultiTxn& multi, ApplyResult& result);
  // Removes one entry's bookkeeping and the entry itself; the parent's count is the caller's.
  void eraseEntry(NodeSet::iterator it);

  // Quotas (tree/quota.h), maintained as ZooKeeper's DataTree does.
  void quotaNodeCreated(std::string_view path);
  void chargeQuota(std::string_view path, std::int64_t bytesDiff, std::int64_t countDiff);
  void recountQuota(std::string_view root);
  void setupQuotas();
  // New data for a quota stats node: its stat, and approximateDataSize, stay as they were.
  void rewriteStats(std::string_view statPath, const std::string& data);

  NodeSet nodes_;
  std::vector<NodeSet::iterator> loadChain_;  // while loading: the last node and its ancestors
  AclCache aclCache_;
  std::unordered_map<std::int64_t, PathSet> ephemerals_;
  PathSet containers_;
  PathSet ttls_;
  quota::QuotaRoots quotaRoots_;
  std::int64_t dataSize_ = 0;
  std::int64_t lastProcessedZxid_ = 0;
};

// ZooKeeper's EphemeralType as read from ephemeralOwner (extended types enabled).
bool isContainerOwner(std::int64_t owner);
bool isTtlOwner(std::int64_t owner);
std::int64_t ttlOf(std::int64_t owner);
std::int64_t ttlOwner(std::int64_t ttl);
// A session-owned ephemeral (not persistent, container or TTL).
bool isSessionOwner(std::int64_t owner);

}  // namespace zk

#pragma once
// The state a write sees while earlier writes are still on their way to disk: the latest
// pending change per path layered over the data tree (ZooKeeper's outstandingChanges).
// Validation of a write against this view is what lets writes be pipelined without waiting
// for the previous fsync, while still failing exactly as if applied one by one.

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>

#include "protocol/records.h"
#include "tree/data_tree.h"

namespace zk {

struct NodeView {
  StatPersisted stat;
  std::int32_t numChildren = 0;
  AclList acl;
  std::int64_t dataLength = 0;  // what a quota counts of the node's data
  // Set when the tree's node names an ACL reference its cache lacks (a damaged snapshot, which
  // ZooKeeper loads too): `acl` is empty, and only a write that checks it fails. A session
  // close that deletes an ephemeral below such a node does not look at its ACL.
  std::optional<std::int64_t> unknownAclRef;
};

class ChangeOverlay {
 public:
  explicit ChangeOverlay(const DataTree& tree) : tree_(tree) {}

  // nullopt: the node does not exist (or a pending delete removed it).
  std::optional<NodeView> lookup(const std::string& path) const;
  // Records the state of `path` after the txn `zxid`; nullopt records a deletion.
  void put(const std::string& path, std::int64_t zxid, std::optional<NodeView> view);
  // Forgets changes the tree already reflects.
  void retire(std::int64_t appliedZxid);
  std::size_t size() const { return latest_.size(); }

  template <typename F>
  void forEachPending(F&& fn) const {
    for (const auto& [path, change] : latest_) fn(path, change.view);
  }

 private:
  struct Change {
    std::int64_t zxid;
    std::optional<NodeView> view;
  };
  const DataTree& tree_;
  std::unordered_map<std::string, Change> latest_;
  std::deque<std::pair<std::int64_t, std::string>> order_;
};

// A scratch layer for one multi: changes stay here until every op has been validated, so
// a failed multi leaves the overlay untouched.
class ScratchView {
 public:
  explicit ScratchView(ChangeOverlay& base) : base_(base) {}
  std::optional<NodeView> lookup(const std::string& path) const;
  void put(const std::string& path, std::optional<NodeView> view) {
    local_[path] = std::move(view);
  }
  void commitTo(ChangeOverlay& overlay, std::int64_t zxid);

 private:
  ChangeOverlay& base_;
  std::unordered_map<std::string, std::optional<NodeView>> local_;
};

}  // namespace zk

// Quota bookkeeping of the data tree: ZooKeeper's DataTree.updateQuotaStat, updateQuotaForPath
// and setupQuota. It runs as txns apply, on every member alike, and writes the stats nodes
// outside of any txn, as ZooKeeper does: their stat does not move, nor does
// approximateDataSize (ZooKeeper's nodeDataSize), so both stay equal to ZooKeeper's.
#include "tree/data_tree.h"

namespace zk {

void DataTree::quotaNodeCreated(std::string_view path) {
  if (auto root = quota::quotaNodeOwner(path, quota::kLimitNode)) {
    quotaRoots_.add(*root);
  } else if (auto counted = quota::quotaNodeOwner(path, quota::kStatNode)) {
    recountQuota(std::string(*counted));
  }
}

void DataTree::chargeQuota(std::string_view path, std::int64_t bytesDiff, std::int64_t countDiff) {
  auto root = quotaRoots_.governing(path);
  if (!root) return;
  std::string statPath = quota::statPath(*root);
  const Node* stats = find(statPath);
  if (stats == nullptr) return;  // ZooKeeper logs "Missing node for stat" and goes on
  auto track = quota::StatsTrack::parse(stats->data());
  track.set("count", track.count() + countDiff);
  track.set("bytes", track.bytes() + bytesDiff);
  rewriteStats(statPath, track.format());
}

// The stats of a quota counted afresh: the root and every node below it, with their data bytes.
void DataTree::recountQuota(std::string_view root) {
  std::int64_t count = 0, bytes = 0;
  if (auto top = nodes_.find(root); top != nodes_.end() && !root.empty()) {
    auto end = nodes_.lower_bound(subtreeEnd(root));
    for (auto it = top; it != end; ++it) {
      ++count;
      bytes += static_cast<std::int64_t>(it->data().size());
    }
  }
  std::string statPath = quota::statPath(root);
  if (find(statPath) == nullptr) return;
  quota::StatsTrack track;
  track.set("count", count);
  track.set("bytes", bytes);
  rewriteStats(statPath, track.format());
}

// After a snapshot is loaded: every leaf zookeeper_limits node under /zookeeper/quota names a
// quota root, whose stats are recounted.
void DataTree::setupQuotas() {
  quotaRoots_.clear();
  auto top = nodes_.find(quota::kRoot);
  if (top == nodes_.end()) return;
  std::vector<std::string> roots;
  const std::string suffix = "/" + std::string(quota::kLimitNode);
  auto end = nodes_.lower_bound(subtreeEnd(quota::kRoot));
  for (auto it = std::next(top); it != end; ++it) {
    std::string_view path = it->path();
    if (it->stat.numChildren != 0 || !path.ends_with(suffix)) continue;
    // As ZooKeeper: up to the first "/zookeeper_limits" in the path.
    roots.emplace_back(path.substr(quota::kRoot.size(), path.find(suffix) - quota::kRoot.size()));
  }
  for (const auto& root : roots) {
    recountQuota(root);
    quotaRoots_.add(root);
  }
}

std::map<std::string, quota::NamespaceQuota, std::less<>> DataTree::quotaByNamespace() const {
  std::map<std::string, quota::NamespaceQuota, std::less<>> out;
  for (const auto& root : quotaRoots_.all()) {
    auto ns = quota::topNamespace(root);
    if (ns.empty()) continue;
    auto& sum = out[std::string(ns)];
    if (const Node* limits = find(quota::limitPath(root))) {
      auto t = quota::StatsTrack::parse(limits->data());
      sum.countLimit += t.countHardLimit() > -1 ? t.countHardLimit() : t.count();
      sum.bytesLimit += t.byteHardLimit() > -1 ? t.byteHardLimit() : t.bytes();
    }
    if (const Node* stats = find(quota::statPath(root))) {
      auto t = quota::StatsTrack::parse(stats->data());
      sum.countUsage += t.count();
      sum.bytesUsage += t.bytes();
    }
  }
  return out;
}

void DataTree::rewriteStats(std::string_view statPath, const std::string& data) {
  Node* node = findMutable(statPath);
  if (node == nullptr) return;
  std::int64_t dataSize = dataSize_;
  replaceData(*node, data);
  dataSize_ = dataSize;
}

}  // namespace zk

#include "tree/data_tree.h"

#include <algorithm>
#include <stdexcept>

namespace zk {
namespace {

constexpr std::int64_t kExtendedMask = kTtlOwnerMask;
constexpr std::int64_t kReservedBitsMask = 0x00ffff0000000000LL;

std::string_view parentKey(std::string_view key) {
  return key.substr(0, key.rfind('/'));
}

void eraseFrom(DataTree::PathSet& paths, std::string_view path) {
  if (auto it = paths.find(path); it != paths.end()) paths.erase(it);
}

}  // namespace

bool isContainerOwner(std::int64_t owner) {
  return owner == kContainerOwner;
}

bool isTtlOwner(std::int64_t owner) {
  // The two bytes after the 0xff marker name the extended type; TTL is type 0.
  return (owner & kExtendedMask) == kExtendedMask && (owner & kReservedBitsMask) == 0;
}

std::int64_t ttlOf(std::int64_t owner) {
  return isTtlOwner(owner) ? owner & kMaxTtl : 0;
}

std::int64_t ttlOwner(std::int64_t ttl) {
  return kTtlOwnerMask | (ttl & kMaxTtl);
}

bool isSessionOwner(std::int64_t owner) {
  return owner != 0 && !isContainerOwner(owner) && !isTtlOwner(owner);
}

DataTree::DataTree() {
  for (std::string_view path : {"", "/zookeeper", "/zookeeper/quota"}) {
    insert(nodes_.make(path, "", AclCache::kOpenUnsafeRef, StatPersisted{}));
  }
  // The config node is read-only for everyone (ZOOKEEPER-2014); ZooKeeper sets that ACL with
  // version -1, which is why its aclVersion reads -1.
  StatPersisted configStat;
  configStat.aversion = -1;
  insert(nodes_.make("/zookeeper/config", "",
                     aclCache_.intern({ACL{perms::kRead, Id{"world", "anyone"}}}), configStat));
}

void DataTree::setConfigNode(std::string_view data, std::int64_t version) {
  Node* node = findMutable("/zookeeper/config");
  if (node == nullptr) return;
  node = &replaceData(*node, data);
  node->stat.mzxid = version;
  node->stat.version = -1;
}

const Node* DataTree::find(std::string_view path) const {
  auto it = nodes_.find(path == "/" ? std::string_view() : path);
  return it == nodes_.end() ? nullptr : &*it;
}

Node* DataTree::findMutable(std::string_view path) {
  auto it = nodes_.find(path == "/" ? std::string_view() : path);
  return it == nodes_.end() ? nullptr : &*it;
}

Stat DataTree::stat(const Node& node) const {
  Stat stat = Stat::from(node.stat.persisted(), static_cast<std::int32_t>(node.data().size()),
                         node.stat.numChildren);
  // The tree counts child creates (what sequential suffixes and replays need); clients see
  // ZooKeeper's v3 cversion, creates plus deletes, and no owner on containers or TTL nodes.
  stat.cversion = node.stat.cversion * 2 - node.stat.numChildren;
  if (!isSessionOwner(node.stat.ephemeralOwner)) stat.ephemeralOwner = 0;
  return stat;
}

const AclList& DataTree::acl(const Node& node) const {
  return aclCache_.get(node.aclRef);
}

std::vector<std::string> DataTree::children(const Node& node) const {
  std::vector<std::string> names;
  names.reserve(node.stat.numChildren);
  std::string_view key = node.path();
  auto it = nodes_.upper_bound(key);
  // The subtree follows the node; the first entry of each child's own subtree is the next
  // sibling, so a childless child costs one step and a parent one lookup.
  while (names.size() < static_cast<std::size_t>(node.stat.numChildren) && it != nodes_.end()) {
    std::string_view path = it->path();
    if (path.size() <= key.size() || !path.starts_with(key) || path[key.size()] != '/') break;
    names.emplace_back(path.substr(key.size() + 1));
    it = it->stat.numChildren == 0 ? std::next(it) : nodes_.lower_bound(subtreeEnd(path));
  }
  return names;
}

std::int64_t DataTree::countDescendants(std::string_view path) const {
  const Node* node = find(path);
  if (node == nullptr) return 0;
  std::string_view key = node->path();
  if (key.empty()) return static_cast<std::int64_t>(nodes_.size()) - 1;
  return std::distance(nodes_.upper_bound(key), nodes_.lower_bound(subtreeEnd(key)));
}

std::vector<std::string> DataTree::ephemerals(std::int64_t session, std::string_view prefix) const {
  std::vector<std::string> out;
  if (const auto* owned = ephemeralPaths(session)) {
    for (const auto& path : *owned) {
      if (path.starts_with(prefix)) out.push_back(path);
    }
  }
  return out;
}

const DataTree::PathSet* DataTree::ephemeralPaths(std::int64_t session) const {
  auto it = ephemerals_.find(session);
  return it == ephemerals_.end() ? nullptr : &it->second;
}

std::vector<std::int64_t> DataTree::sessionsWithEphemerals() const {
  std::vector<std::int64_t> sessions;
  for (const auto& [session, paths] : ephemerals_) sessions.push_back(session);
  std::sort(sessions.begin(), sessions.end());
  return sessions;
}

std::vector<std::string> DataTree::reapable(std::int64_t nowMillis) const {
  std::vector<std::string> out;
  for (const auto& path : containers_) {
    const Node* node = find(path);
    // cversion > 0: the container had a child once, so a new one is not reaped at birth.
    if (node != nullptr && node->stat.numChildren == 0 && node->stat.cversion > 0)
      out.push_back(path);
  }
  for (const auto& path : ttls_) {
    const Node* node = find(path);
    if (node == nullptr || node->stat.numChildren != 0) continue;
    std::int64_t ttl = ttlOf(node->stat.ephemeralOwner);
    if (ttl != 0 && nowMillis - node->stat.mtime > ttl) out.push_back(path);
  }
  return out;
}

void DataTree::loadNode(std::string_view path, NodeData data, std::int64_t aclRef,
                        const StatPersisted& stat) {
  // zookube writes snapshots in PathLess order, a depth-first walk with parents first. Such a
  // node sorts after everything loaded so far: it is new, it goes at the end of the map, and
  // its parent is on the chain of the previous node's ancestors, so nothing is searched for.
  // Other orders (ZooKeeper's snapshots) take the searching path.
  bool appends = !nodes_.empty() && PathLess{}(std::prev(nodes_.end())->path(), path);
  if (!appends) {
    loadChain_.clear();
    return loadNodeSearching(path, data, aclRef, stat);
  }
  std::string_view parent = parentKey(path);
  if (path.find('/') == std::string::npos) {
    throw std::invalid_argument("bad snapshot path " + std::string(path));
  }
  while (!loadChain_.empty() && loadChain_.back()->path() != parent) loadChain_.pop_back();
  if (loadChain_.empty()) {
    auto found = nodes_.find(parent);
    if (found == nodes_.end()) {
      throw std::invalid_argument("snapshot node " + std::string(path) +
                                  " comes before its parent");
    }
    loadChain_.push_back(found);
  }
  aclCache_.addUsage(aclRef);
  loadChain_.push_back(insertUnder(loadChain_.back(), nodes_.make(path, data, aclRef, stat), true));
}

void DataTree::loadNodeSearching(std::string_view path, NodeData data, std::int64_t aclRef,
                                 const StatPersisted& stat) {
  if (auto it = nodes_.find(path); it != nodes_.end()) {  // a duplicate replaces the contents
    untrack(path, it->stat.ephemeralOwner);
    aclCache_.removeUsage(it->aclRef);
    Node& node = replaceData(*it, data);
    node.aclRef = aclRef;
    node.stat = NodeStat(stat, node.stat.numChildren);
    aclCache_.addUsage(aclRef);
    track(path, stat.ephemeralOwner);
    return;
  }
  if (!path.empty() && (path.find('/') == std::string::npos || !find(parentKey(path)))) {
    throw std::invalid_argument("snapshot node " + std::string(path) + " comes before its parent");
  }
  aclCache_.addUsage(aclRef);
  insert(nodes_.make(path, data, aclRef, stat));
}

void DataTree::clear() {
  loadChain_.clear();
  nodes_.clear();
  aclCache_.clear();
  ephemerals_.clear();
  containers_.clear();
  ttls_.clear();
  quotaRoots_.clear();
  dataSize_ = 0;
  lastProcessedZxid_ = 0;
}

NodeSet::iterator DataTree::insert(NodePtr node) {
  std::string_view path = node->path();
  auto parent = path.empty() ? nodes_.end() : nodes_.find(parentKey(path));
  return insertUnder(parent, std::move(node), false);
}

NodeSet::iterator DataTree::insertUnder(NodeSet::iterator parent, NodePtr node, bool sortsLast) {
  NodeSet::iterator it;  // inserted first: a refused insert must leave the counters alone
  if (sortsLast) {
    it = nodes_.append(std::move(node));
  } else {
    it = nodes_.insert(std::move(node));
  }
  if (parent != nodes_.end()) ++parent->stat.numChildren;
  dataSize_ += nodeSize(it->path(), it->data());
  track(it->path(), it->stat.ephemeralOwner);
  return it;
}

Node& DataTree::replaceData(Node& node, NodeData data) {
  std::string_view bytes = data.value_or(std::string_view());
  dataSize_ += nodeSize(node.path(), bytes) - nodeSize(node.path(), node.data());
  if (bytes.size() == node.data().size()) {
    node.overwriteData(data);
    return node;
  }
  return *nodes_.replace(nodes_.iteratorTo(node), nodes_.withData(node, data));
}

void DataTree::eraseEntry(NodeSet::iterator it) {
  aclCache_.removeUsage(it->aclRef);
  dataSize_ -= nodeSize(it->path(), it->data());
  untrack(it->path(), it->stat.ephemeralOwner);
  nodes_.erase(it);
}

void DataTree::track(std::string_view path, std::int64_t owner) {
  if (isContainerOwner(owner)) {
    containers_.emplace(path);
  } else if (isTtlOwner(owner)) {
    ttls_.emplace(path);
  } else if (owner != 0) {
    ephemerals_[owner].emplace(path);
  }
}

void DataTree::untrack(std::string_view path, std::int64_t owner) {
  if (isContainerOwner(owner)) {
    eraseFrom(containers_, path);
  } else if (isTtlOwner(owner)) {
    eraseFrom(ttls_, path);
  } else if (auto it = ephemerals_.find(owner); owner != 0 && it != ephemerals_.end()) {
    eraseFrom(it->second, path);
    if (it->second.empty()) ephemerals_.erase(it);
  }
}

std::int64_t DataTree::nodeSize(std::string_view path, std::string_view data) {
  // ZooKeeper also keeps the root under the alias "/", and counts it twice.
  std::int64_t size = static_cast<std::int64_t>(path.size() + data.size());
  if (path.empty()) size += 1 + static_cast<std::int64_t>(data.size());
  return size;
}

}  // namespace zk

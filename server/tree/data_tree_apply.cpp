// Transaction application: ZooKeeper's DataTree.processTxn, createNode, deleteNode, setData,
// setACL and killSession, including their tolerance of replays over a fuzzy snapshot.
#include <type_traits>

#include "tree/data_tree.h"

namespace zk {
namespace {

constexpr std::int32_t op(OpCode code) {
  return static_cast<std::int32_t>(code);
}

std::string_view parentKey(std::string_view path) {
  return path.substr(0, path.rfind('/'));
}

// Watches name the root "/", while the tree keys it as "".
std::string watchPath(std::string_view key) {
  return key.empty() ? "/" : std::string(key);
}

}  // namespace

struct DataTree::Ctx {
  std::int64_t clientId;
  std::int64_t zxid;
  std::int64_t time;
  std::vector<WatchTrigger>& triggers;
};

ApplyResult DataTree::apply(const Txn& txn) {
  const TxnHeader& header = txn.header;
  ApplyResult result;
  Ctx ctx{header.clientId, header.zxid, header.time, result.triggers};
  if (const auto* multi = std::get_if<MultiTxn>(&txn.body)) {
    applyMulti(ctx, *multi, result);
  } else {
    OpResult one =
        std::visit([&](const auto& body) { return applyOp(ctx, header.type, body); }, txn.body);
    result.err = one.err;
    result.path = std::move(one.path);
    result.stat = one.stat;
  }
  // Only after the whole txn: a snapshot tagged with this zxid must contain all of it.
  lastProcessedZxid_ = std::max(lastProcessedZxid_, header.zxid);
  return result;
}

template <class Body>
OpResult DataTree::applyOp(Ctx& ctx, std::int32_t type, const Body& body) {
  OpResult r;
  r.type = type;
  if constexpr (std::is_same_v<Body, CreateTxn>) {
    r.path = body.path;
    std::int64_t owner = body.ephemeral ? ctx.clientId : 0;
    r.err = createNode(ctx, body.path, body.data, body.acl, owner, body.parentCVersion, &r.stat);
    // A node closed with its session and re-created by another session after the fuzzy
    // snapshot saw its parent: the replayed create fails, but the parent must still advance.
    if (type == op(OpCode::kCreate) && r.err == Err::kNodeExists) {
      Err parentErr = setCversionPzxid(parentKey(body.path), body.parentCVersion, ctx.zxid);
      if (parentErr != Err::kOk) r.err = parentErr;
    }
  } else if constexpr (std::is_same_v<Body, CreateContainerTxn>) {
    r.path = body.path;
    r.err = createNode(ctx, body.path, body.data, body.acl, kContainerOwner, body.parentCVersion,
                       &r.stat);
  } else if constexpr (std::is_same_v<Body, CreateTTLTxn>) {
    r.path = body.path;
    r.err = createNode(ctx, body.path, body.data, body.acl, ttlOwner(body.ttl), body.parentCVersion,
                       &r.stat);
  } else if constexpr (std::is_same_v<Body, DeleteTxn>) {
    r.path = body.path;
    r.err = deleteNode(ctx, body.path);
  } else if constexpr (std::is_same_v<Body, SetDataTxn>) {
    r.path = body.path;
    r.err = setData(ctx, body, &r.stat);
  } else if constexpr (std::is_same_v<Body, SetACLTxn>) {
    r.path = body.path;
    r.err = setAcl(body, &r.stat);
  } else if constexpr (std::is_same_v<Body, CheckVersionTxn>) {
    r.path = body.path;
    if (const Node* node = find(body.path)) r.stat = stat(*node);
  } else if constexpr (std::is_same_v<Body, ErrorTxn>) {
    r.err = static_cast<Err>(body.err);
  } else if constexpr (std::is_same_v<Body, CloseSessionTxn>) {
    closeSession(ctx, &body.paths2Delete);
  } else if constexpr (std::is_same_v<Body, std::monostate>) {
    if (type == op(OpCode::kCloseSession)) closeSession(ctx, nullptr);  // pre-3.6 log entry
  }
  return r;  // createSession, and a multi nested in a multi, change nothing
}

Err DataTree::createNode(Ctx& ctx, std::string_view path, NodeData data, const AclList& acl,
                         std::int64_t owner, std::int32_t parentCVersion, Stat* out) {
  auto slash = path.rfind('/');
  if (slash == std::string_view::npos) return Err::kNoNode;
  std::string_view parentPath = path.substr(0, slash);
  Node* parent = findMutable(parentPath);
  if (parent == nullptr) return Err::kNoNode;
  std::int64_t ref = aclCache_.intern(acl);
  if (Node* existing = findMutable(path)) {
    // ZooKeeper re-points an existing node at the replayed ACL (a fuzzy snapshot may hold
    // the node but not yet its ACL change).
    aclCache_.removeUsage(existing->aclRef);
    existing->aclRef = ref;
    return Err::kNodeExists;
  }
  if (parentCVersion == -1) parentCVersion = parent->stat.cversion + 1;
  // A replayed create of a node created and deleted within the fuzzy window must not move
  // the parent's cversion and pzxid backwards.
  if (parentCVersion > parent->stat.cversion) {
    parent->stat.cversion = parentCVersion;
    parent->stat.pzxid = ctx.zxid;
  }
  auto it = insert(
      nodes_.make(path, data, ref,
                  StatPersisted{ctx.zxid, ctx.zxid, ctx.time, ctx.time, 0, 0, 0, owner, ctx.zxid}));
  std::int64_t bytes = static_cast<std::int64_t>(it->data().size());
  if (out != nullptr) *out = stat(*it);
  ctx.triggers.push_back({std::string(path), EventType::kNodeCreated});
  ctx.triggers.push_back({watchPath(parentPath), EventType::kNodeChildrenChanged});
  quotaNodeCreated(path);  // last: it may rewrite the node just created, a stats node
  chargeQuota(path, bytes, 1);
  return Err::kOk;
}

Err DataTree::deleteNode(Ctx& ctx, std::string_view path) {
  auto slash = path.rfind('/');
  if (slash == std::string_view::npos) return Err::kNoNode;
  std::string_view parentPath = path.substr(0, slash);
  Node* parent = findMutable(parentPath);
  if (parent == nullptr) return Err::kNoNode;
  // The child may already be gone in a fuzzy snapshot; pzxid still advances, but only
  // forwards, so a later create's pzxid survives.
  if (ctx.zxid > parent->stat.pzxid) parent->stat.pzxid = ctx.zxid;
  auto it = nodes_.find(path);
  if (it == nodes_.end() || path.empty()) return Err::kNoNode;
  // Children cannot exist here in a consistent log; if a replay left some, they go too
  // rather than linger as orphans in the ordered map.
  auto end = nodes_.lower_bound(subtreeEnd(path));
  for (auto child = std::next(it); child != end;) eraseEntry(child++);
  std::string deleted(path);
  std::int64_t bytes = static_cast<std::int64_t>(it->data().size());
  eraseEntry(it);
  --parent->stat.numChildren;
  if (auto root = quota::quotaNodeOwner(deleted, quota::kLimitNode)) quotaRoots_.remove(*root);
  chargeQuota(deleted, -bytes, -1);
  ctx.triggers.push_back({deleted, EventType::kNodeDeleted});
  ctx.triggers.push_back({watchPath(parentPath), EventType::kNodeChildrenChanged});
  return Err::kOk;
}

Err DataTree::setData(Ctx& ctx, const SetDataTxn& txn, Stat* out) {
  Node* node = findMutable(txn.path);
  if (node == nullptr) return Err::kNoNode;
  auto before = static_cast<std::int64_t>(node->data().size());
  node = &replaceData(*node, txn.data);
  node->stat.mtime = ctx.time;
  node->stat.mzxid = ctx.zxid;
  node->stat.version = txn.version;  // the txn carries the resulting version
  auto after = static_cast<std::int64_t>(node->data().size());
  if (out != nullptr) *out = stat(*node);
  ctx.triggers.push_back({txn.path, EventType::kNodeDataChanged});
  chargeQuota(txn.path, after - before, 0);
  return Err::kOk;
}

Err DataTree::setAcl(const SetACLTxn& txn, Stat* out) {
  Node* node = findMutable(txn.path);
  if (node == nullptr) return Err::kNoNode;
  aclCache_.removeUsage(node->aclRef);
  node->stat.aversion = txn.version;
  node->aclRef = aclCache_.intern(txn.acl);
  if (out != nullptr) *out = stat(*node);
  return Err::kOk;
}

Err DataTree::setCversionPzxid(std::string_view path, std::int32_t cversion, std::int64_t zxid) {
  Node* node = findMutable(path);
  if (node == nullptr) return Err::kNoNode;
  if (cversion == -1) cversion = node->stat.cversion + 1;
  if (cversion > node->stat.cversion) {
    node->stat.cversion = cversion;
    node->stat.pzxid = zxid;
  }
  return Err::kOk;
}

void DataTree::closeSession(Ctx& ctx, const std::vector<std::string>* listed) {
  PathSet owned;
  if (auto it = ephemerals_.find(ctx.clientId); it != ephemerals_.end()) {
    owned = std::move(it->second);
    ephemerals_.erase(it);
  }
  // As ZooKeeper: the txn's list first (missing nodes ignored), then whatever else the
  // session still owns here.
  if (listed != nullptr) {
    for (const auto& path : *listed) {
      deleteNode(ctx, path);
      owned.erase(path);
    }
  }
  for (const auto& path : owned) deleteNode(ctx, path);
}

void DataTree::applyMulti(Ctx& ctx, const MultiTxn& multi, ApplyResult& result) {
  bool failed = false;
  for (const auto& sub : multi.txns) failed = failed || sub.type == op(OpCode::kError);
  bool pastFailure = false;
  for (const auto& sub : multi.txns) {
    OpResult r;
    if (sub.type == op(OpCode::kError)) pastFailure = true;
    if (failed && sub.type != op(OpCode::kError)) {
      // A failed multi applies nothing: ops before the failure report OK, after it
      // RUNTIMEINCONSISTENCY (ZooKeeper rewrites them to error txns the same way).
      r.type = op(OpCode::kError);
      r.err = pastFailure ? Err::kRuntimeInconsistency : Err::kOk;
    } else {
      r = std::visit([&](const auto& body) { return applyOp(ctx, sub.type, body); }, sub.body);
    }
    if (r.err != Err::kOk && result.err == Err::kOk) result.err = r.err;
    result.multi.push_back(std::move(r));
  }
}

}  // namespace zk

#include "pipeline/prep.h"

#include <cstdio>
#include <set>

#include "acl/acl.h"
#include "protocol/errors.h"
#include "protocol/opcodes.h"
#include "tree/path.h"

namespace zk {

MultiFailure::MultiFailure(std::size_t opCount, std::size_t failedIndex, const KeeperError& cause)
    : opCount(opCount),
      failedIndex(failedIndex),
      err(cause.code),
      message_("multi op " + std::to_string(failedIndex + 1) + " failed: " + cause.what()) {}

namespace {

[[noreturn]] void fail(Err code, std::string_view path = {}) {
  throw KeeperError{code, path};
}

bool isSuper(std::span<const Id> ids) {
  for (const auto& id : ids)
    if (id.scheme == "super") return true;
  return false;
}

void checkAcl(const NodeView& node, std::int32_t perm, const PrepContext& ctx) {
  if (node.unknownAclRef) throw UnknownAclReference(*node.unknownAclRef);
  if (!permitted(node.acl, perm, ctx.authIds, isSuper(ctx.authIds))) fail(Err::kNoAuth);
}

void checkPath(const std::string& path, bool sequential = false) {
  if (pathError(path, sequential)) fail(Err::kBadArguments, path);
}

bool isSpecialPath(std::string_view path) {
  return path == "/" || path == "/zookeeper" || path == "/zookeeper/quota" ||
         path == "/zookeeper/config";
}

std::string parentForWrite(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos || path.find('\0') != std::string::npos)
    fail(Err::kBadArguments, path);
  return path.substr(0, slash);
}

NodeView mustExist(const ScratchView& view, const std::string& path) {
  auto node = view.lookup(path);
  if (!node) fail(Err::kNoNode, path);
  return *node;
}

std::int32_t nextVersion(std::int32_t current, std::int32_t expected) {
  if (expected != -1 && expected != current) fail(Err::kBadVersion);
  return current == INT32_MAX ? 1 : current + 1;
}

bool isNormalEphemeral(std::int64_t owner) {
  return owner != 0 && owner != kContainerOwner && (owner & kTtlOwnerMask) != kTtlOwnerMask;
}

struct CreateMode_ {
  bool ephemeral = false, sequential = false, container = false, ttl = false;
};

CreateMode_ decodeMode(std::int32_t flags) {
  switch (static_cast<CreateMode>(flags)) {
    case CreateMode::kPersistent:
      return {};
    case CreateMode::kEphemeral:
      return {.ephemeral = true};
    case CreateMode::kPersistentSequential:
      return {.sequential = true};
    case CreateMode::kEphemeralSequential:
      return {.ephemeral = true, .sequential = true};
    case CreateMode::kContainer:
      return {.container = true};
    case CreateMode::kPersistentWithTTL:
      return {.ttl = true};
    case CreateMode::kPersistentSequentialWithTTL:
      return {.sequential = true, .ttl = true};
  }
  fail(Err::kBadArguments);
}

void validateTtl(const CreateMode_& mode, std::int64_t ttl, const PrepContext& ctx) {
  if (mode.ttl && !ctx.extendedTypesEnabled) fail(Err::kUnimplemented);
  if (mode.ttl ? (ttl <= 0 || ttl > kMaxTtl) : ttl >= 0) fail(Err::kBadArguments);
}

PreparedOp prepareCreate(std::int32_t op, jute::Reader& in, const PrepContext& ctx,
                         ScratchView& view) {
  auto req = CreateRequest::read(in, op == static_cast<int>(OpCode::kCreateTTL));
  CreateMode_ mode = decodeMode(req.flags);
  if (op == static_cast<int>(OpCode::kCreateContainer) && !mode.container) fail(Err::kBadArguments);
  validateTtl(mode, req.ttl, ctx);
  // ZooKeeper validates the whole path only once a sequence suffix is added, after the checks
  // of the parent: a bad path under a missing parent is NONODE, as there.
  std::string parentPath = parentForWrite(req.path);
  AclList acl = fixupAcl(req.acl, ctx.authIds);
  NodeView parent = mustExist(view, parentPath.empty() ? "/" : parentPath);
  checkAcl(parent, perms::kCreate, ctx);
  std::string path = req.path;
  if (mode.sequential) {
    char suffix[16];
    std::snprintf(suffix, sizeof suffix, "%010d", parent.stat.cversion);
    path += suffix;
  }
  checkPath(path);
  if (view.lookup(path)) fail(Err::kNodeExists, path);
  if (isNormalEphemeral(parent.stat.ephemeralOwner)) fail(Err::kNoChildrenForEphemerals);
  std::int32_t newCversion = parent.stat.cversion + 1;
  auto dataLength = static_cast<std::int64_t>(req.data ? req.data->size() : 0);
  if (ctx.quotas != nullptr) ctx.quotas->check(path, dataLength, 1);

  StatPersisted stat{ctx.zxid, ctx.zxid, ctx.nowMs, ctx.nowMs, 0, 0, 0, 0, ctx.zxid};
  PreparedOp prepared{op, {}};
  if (mode.container) {
    stat.ephemeralOwner = kContainerOwner;
    prepared.body = CreateContainerTxn{path, req.data, acl, newCversion};
  } else if (mode.ttl) {
    stat.ephemeralOwner = kTtlOwnerMask | req.ttl;
    prepared.body = CreateTTLTxn{path, req.data, acl, newCversion, req.ttl};
  } else {
    if (mode.ephemeral) stat.ephemeralOwner = ctx.sessionId;
    prepared.body = CreateTxn{path, req.data, acl, mode.ephemeral, newCversion};
  }
  parent.numChildren++;
  parent.stat.cversion = newCversion;
  parent.stat.pzxid = ctx.zxid;
  view.put(parentPath.empty() ? "/" : parentPath, parent);
  view.put(path, NodeView{stat, 0, std::move(acl), dataLength, std::nullopt});
  return prepared;
}

void recordDelete(const std::string& path, const std::string& parentPath, std::int64_t zxid,
                  ScratchView& view) {
  NodeView parent = mustExist(view, parentPath.empty() ? "/" : parentPath);
  parent.numChildren--;
  parent.stat.pzxid = zxid;
  view.put(parentPath.empty() ? "/" : parentPath, parent);
  view.put(path, std::nullopt);
}

PreparedOp prepareDelete(jute::Reader& in, const PrepContext& ctx, ScratchView& view) {
  auto req = PathVersionRequest::read(in);
  if (isSpecialPath(req.path)) fail(Err::kBadArguments);
  std::string parentPath = parentForWrite(req.path);
  // ZooKeeper's order: the parent, the right to delete from it, then the node itself.
  NodeView parent = mustExist(view, parentPath.empty() ? "/" : parentPath);
  checkAcl(parent, perms::kDelete, ctx);
  NodeView node = mustExist(view, req.path);
  if (req.version != -1 && req.version != node.stat.version) fail(Err::kBadVersion, req.path);
  if (node.numChildren > 0) fail(Err::kNotEmpty, req.path);
  recordDelete(req.path, parentPath, ctx.zxid, view);
  return {static_cast<int>(OpCode::kDelete), DeleteTxn{req.path}};
}

PreparedOp prepareDeleteContainer(jute::Reader& in, const PrepContext& ctx, ScratchView& view) {
  auto req = PathRequest::read(in);
  if (isSpecialPath(req.path)) fail(Err::kBadArguments);
  std::string parentPath = parentForWrite(req.path);
  NodeView node = mustExist(view, req.path);
  if (node.numChildren > 0) fail(Err::kNotEmpty);
  std::int64_t owner = node.stat.ephemeralOwner;
  if (owner != kContainerOwner && (owner & kTtlOwnerMask) != kTtlOwnerMask) fail(Err::kBadVersion);
  recordDelete(req.path, parentPath, ctx.zxid, view);
  return {static_cast<int>(OpCode::kDeleteContainer), DeleteTxn{req.path}};
}

PreparedOp prepareSetData(jute::Reader& in, const PrepContext& ctx, ScratchView& view) {
  auto req = SetDataRequest::read(in);
  checkPath(req.path);
  NodeView node = mustExist(view, req.path);
  checkAcl(node, perms::kWrite, ctx);
  auto dataLength = static_cast<std::int64_t>(req.data ? req.data->size() : 0);
  if (ctx.quotas != nullptr) ctx.quotas->check(req.path, dataLength - node.dataLength, 0);
  std::int32_t version = nextVersion(node.stat.version, req.version);
  node.stat.version = version;
  node.dataLength = dataLength;
  node.stat.mtime = ctx.nowMs;
  node.stat.mzxid = ctx.zxid;
  view.put(req.path, node);
  return {static_cast<int>(OpCode::kSetData), SetDataTxn{req.path, std::move(req.data), version}};
}

// Only who may write /zookeeper/config may reconfigure: by default (its ACL is world:READ) the
// super user alone. As in ZooKeeper, that right is checked last, after the version, the
// arguments and the quorum. The txn is ZooKeeper's: a SetDataTxn of the config node, version -1.
PreparedOp prepareReconfig(jute::Reader& in, const PrepContext& ctx, ScratchView& view) {
  auto req = ReconfigRequest::read(in);
  // ZooKeeper's order: disabled anywhere first, then no reconfig on a standalone server.
  if (!ctx.reconfigEnabled) fail(Err::kReconfigDisabled);
  if (ctx.planReconfig == nullptr) fail(Err::kUnimplemented);
  std::string config = (*ctx.planReconfig)(req, ctx.zxid);
  const std::string path = "/zookeeper/config";
  NodeView node = mustExist(view, path);
  checkAcl(node, perms::kWrite, ctx);
  node.stat.version = -1;
  node.stat.mtime = ctx.nowMs;
  node.stat.mzxid = ctx.zxid;
  view.put(path, node);
  return {static_cast<int>(OpCode::kReconfig), SetDataTxn{path, std::move(config), -1}};
}

PreparedOp prepareSetACL(jute::Reader& in, const PrepContext& ctx, ScratchView& view) {
  auto req = SetACLRequest::read(in);
  checkPath(req.path);
  AclList acl = fixupAcl(req.acl, ctx.authIds);  // INVALIDACL before NONODE, as ZooKeeper
  NodeView node = mustExist(view, req.path);
  checkAcl(node, perms::kAdmin, ctx);
  std::int32_t version = nextVersion(node.stat.aversion, req.version);
  node.stat.aversion = version;
  node.acl = acl;
  node.unknownAclRef.reset();
  view.put(req.path, node);
  return {static_cast<int>(OpCode::kSetACL), SetACLTxn{req.path, std::move(acl), version}};
}

PreparedOp prepareCheck(jute::Reader& in, const PrepContext& ctx, ScratchView& view) {
  auto req = PathVersionRequest::read(in);
  checkPath(req.path);
  NodeView node = mustExist(view, req.path);
  checkAcl(node, perms::kRead, ctx);
  if (req.version != -1 && req.version != node.stat.version) fail(Err::kBadVersion);
  return {static_cast<int>(OpCode::kCheck), CheckVersionTxn{req.path, req.version}};
}

}  // namespace

bool isWriteOp(std::int32_t op) {
  switch (static_cast<OpCode>(op)) {
    case OpCode::kCreate:
    case OpCode::kCreate2:
    case OpCode::kCreateContainer:
    case OpCode::kCreateTTL:
    case OpCode::kDelete:
    case OpCode::kDeleteContainer:
    case OpCode::kSetData:
    case OpCode::kSetACL:
    case OpCode::kCheck:
    case OpCode::kMulti:
    case OpCode::kCloseSession:
    case OpCode::kReconfig:
      return true;
    default:
      return false;
  }
}

PreparedOp prepareOp(std::int32_t op, jute::Reader& in, const PrepContext& ctx, ScratchView& view) {
  switch (static_cast<OpCode>(op)) {
    case OpCode::kCreate:
    case OpCode::kCreate2:
    case OpCode::kCreateContainer:
    case OpCode::kCreateTTL:
      return prepareCreate(op, in, ctx, view);
    case OpCode::kDelete:
      return prepareDelete(in, ctx, view);
    case OpCode::kDeleteContainer:
      return prepareDeleteContainer(in, ctx, view);
    case OpCode::kSetData:
      return prepareSetData(in, ctx, view);
    case OpCode::kSetACL:
      return prepareSetACL(in, ctx, view);
    case OpCode::kCheck:
      return prepareCheck(in, ctx, view);
    case OpCode::kReconfig:
      return prepareReconfig(in, ctx, view);
    default:
      fail(Err::kBadArguments);
  }
}

bool allowedInMulti(std::int32_t type) {
  switch (static_cast<OpCode>(type)) {
    case OpCode::kCreate:
    case OpCode::kCreate2:
    case OpCode::kCreateTTL:
    case OpCode::kCreateContainer:
    case OpCode::kDelete:
    case OpCode::kSetData:
    case OpCode::kCheck:
      return true;
    default:
      return false;
  }
}

void skipMultiOp(std::int32_t type, jute::Reader& in) {
  switch (static_cast<OpCode>(type)) {
    case OpCode::kCreateTTL:
      CreateRequest::read(in, true);
      break;
    case OpCode::kCreate:
    case OpCode::kCreate2:
    case OpCode::kCreateContainer:
      CreateRequest::read(in, false);
      break;
    case OpCode::kSetData:
      SetDataRequest::read(in);
      break;
    default:
      PathVersionRequest::read(in);
      break;
  }
}

PreparedOp prepareMultiOp(std::int32_t op, jute::Reader& in, const PrepContext& ctx,
                          ScratchView& view) {
  PreparedOp prepared = prepareOp(op, in, ctx, view);
  if (std::holds_alternative<CreateTxn>(prepared.body)) {
    prepared.type = static_cast<int>(OpCode::kCreate);
  } else if (std::holds_alternative<CreateContainerTxn>(prepared.body)) {
    prepared.type = static_cast<int>(OpCode::kCreateContainer);
  } else if (std::holds_alternative<CreateTTLTxn>(prepared.body)) {
    prepared.type = static_cast<int>(OpCode::kCreateTTL);
  }
  return prepared;
}

std::vector<std::string> ephemeralsToClose(std::int64_t sessionId, const DataTree& tree,
                                           const ChangeOverlay& overlay) {
  std::set<std::string> paths;
  if (const auto* owned = tree.ephemeralPaths(sessionId))
    paths.insert(owned->begin(), owned->end());
  overlay.forEachPending([&](const std::string& path, const std::optional<NodeView>& view) {
    if (!view) {
      paths.erase(path);
    } else if (view->stat.ephemeralOwner == sessionId) {
      paths.insert(path);
    }
  });
  return {paths.begin(), paths.end()};
}

void recordSessionClose(const std::vector<std::string>& paths, std::int64_t zxid,
                        ScratchView& view) {
  for (const auto& path : paths) recordDelete(path, std::string(parentOf(path)), zxid, view);
}

}  // namespace zk

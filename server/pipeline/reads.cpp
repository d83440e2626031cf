#include "pipeline/reads.h"

#include "acl/acl.h"
#include "pipeline/prep.h"
#include "protocol/errors.h"
#include "protocol/opcodes.h"

namespace zk {
namespace {

[[noreturn]] void fail(Err code, std::string_view path = {}) {
  throw KeeperError{code, path};
}

bool isSuper(std::span<const Id> ids) {
  for (const auto& id : ids)
    if (id.scheme == "super") return true;
  return false;
}

const Node& mustFind(const ReadContext& ctx, const std::string& path) {
  if (path.find('\0') != std::string::npos) fail(Err::kBadArguments);
  const Node* node = ctx.tree.find(path);
  if (node == nullptr) fail(Err::kNoNode, path);
  return *node;
}

void checkAcl(const ReadContext& ctx, const Node& node, std::int32_t perm) {
  if (!permitted(ctx.tree.acl(node), perm, ctx.authIds, isSuper(ctx.authIds))) fail(Err::kNoAuth);
}

void getData(const PathWatchRequest& req, ReadContext& ctx, jute::Writer& out) {
  const Node& node = mustFind(ctx, req.path);
  checkAcl(ctx, node, perms::kRead);
  if (req.watch) ctx.watches.addDataWatch(req.path, ctx.sessionId);
  out.writeNullableBuffer(node.nullableData());
  ctx.tree.stat(node).write(out);
}

void getChildren(const PathWatchRequest& req, bool withStat, ReadContext& ctx, jute::Writer& out) {
  const Node& node = mustFind(ctx, req.path);
  checkAcl(ctx, node, perms::kRead);
  if (req.watch) ctx.watches.addChildWatch(req.path, ctx.sessionId);
  jute::writeStringVector(out, ctx.tree.children(node));
  if (withStat) ctx.tree.stat(node).write(out);
}

void exists(const PathWatchRequest& req, ReadContext& ctx, jute::Writer& out) {
  if (req.path.find('\0') != std::string::npos) fail(Err::kBadArguments);
  const Node* node = ctx.tree.find(req.path);
  // A missing node still arms the watch, so the client hears when it is created.
  if (req.watch) ctx.watches.addDataWatch(req.path, ctx.sessionId);
  if (node == nullptr) fail(Err::kNoNode);
  ctx.tree.stat(*node).write(out);
}

void getAcl(const PathRequest& req, ReadContext& ctx, jute::Writer& out) {
  const Node& node = mustFind(ctx, req.path);
  checkAcl(ctx, node, perms::kRead | perms::kAdmin);
  AclList acl = ctx.tree.acl(node);
  // Without ADMIN, digest hashes are hidden so they cannot be attacked offline.
  if (!permitted(acl, perms::kAdmin, ctx.authIds, isSuper(ctx.authIds))) {
    for (auto& entry : acl) {
      if (entry.id.scheme != "digest") continue;
      auto colon = entry.id.id.find(':');
      entry.id.id = entry.id.id.substr(0, colon) + ":x";
    }
  }
  jute::writeVector(out, acl);
  ctx.tree.stat(node).write(out);
}

void allChildrenNumber(const PathRequest& req, ReadContext& ctx, jute::Writer& out) {
  const Node& node = mustFind(ctx, req.path);
  checkAcl(ctx, node, perms::kRead);
  out.writeInt(static_cast<std::int32_t>(ctx.tree.countDescendants(req.path)));
}

void ephemerals(const PathRequest& req, ReadContext& ctx, jute::Writer& out) {
  std::string prefix = req.path;
  if (prefix.find_first_not_of(' ') == std::string::npos || prefix == "/") prefix.clear();
  jute::writeStringVector(out, ctx.tree.ephemerals(ctx.sessionId, prefix));
}

// ZooKeeper 3.8 checks and removes only the children, data and any kinds: a persistent kind, as
// an unknown one, fails inside its watch manager, which it answers as a marshalling error.
void checkOrRemoveWatches(std::int32_t op, jute::Reader& in, ReadContext& ctx) {
  auto req = WatchTypeRequest::read(in);
  if (req.type < 1 || req.type > 3) fail(Err::kMarshallingError);
  auto type = static_cast<WatcherType>(req.type);
  bool found = op == static_cast<int>(OpCode::kCheckWatches)
                   ? ctx.watches.contains(ctx.sessionId, req.path, type)
                   : ctx.watches.remove(ctx.sessionId, req.path, type);
  if (!found) fail(Err::kNoWatcher);
}

// The reply carries an ErrorResponse{0} body, which the Java client reads; an unknown mode fails
// in ZooKeeper's mode lookup, answered as a marshalling error.
void addWatch(jute::Reader& in, ReadContext& ctx, jute::Writer& out) {
  auto req = AddWatchRequest::read(in);
  if (req.mode != 0 && req.mode != 1) fail(Err::kMarshallingError);
  if (req.path.find('\0') != std::string::npos) fail(Err::kBadArguments);
  ctx.watches.addPersistentWatch(req.path, ctx.sessionId, req.mode == 1);
  out.writeInt(0);
}

void whoAmI(ReadContext& ctx, jute::Writer& out) {
  out.writeInt(static_cast<std::int32_t>(ctx.authIds.size()));
  for (const auto& id : ctx.authIds) {
    // ZooKeeper reports a digest identity by its user name, without the password hash.
    std::string_view user = id.id;
    if (id.scheme == "digest") user = user.substr(0, user.find(':'));
    ClientInfo{id.scheme, std::string(user)}.write(out);
  }
}

}  // namespace

bool isReadOp(std::int32_t op) {
  switch (static_cast<OpCode>(op)) {
    case OpCode::kExists:
    case OpCode::kGetData:
    case OpCode::kGetACL:
    case OpCode::kGetChildren:
    case OpCode::kGetChildren2:
    case OpCode::kGetAllChildrenNumber:
    case OpCode::kGetEphemerals:
    case OpCode::kCheckWatches:
    case OpCode::kRemoveWatches:
    case OpCode::kAddWatch:
    case OpCode::kWhoAmI:
    case OpCode::kMultiRead:
      return true;
    default:
      return false;
  }
}

void executeRead(std::int32_t op, jute::Reader& in, ReadContext& ctx, jute::Writer& out) {
  switch (static_cast<OpCode>(op)) {
    case OpCode::kExists:
      return exists(PathWatchRequest::read(in), ctx, out);
    case OpCode::kGetData:
      return getData(PathWatchRequest::read(in), ctx, out);
    case OpCode::kGetChildren:
      return getChildren(PathWatchRequest::read(in), false, ctx, out);
    case OpCode::kGetChildren2:
      return getChildren(PathWatchRequest::read(in), true, ctx, out);
    case OpCode::kGetACL:
      return getAcl(PathRequest::read(in), ctx, out);
    case OpCode::kGetAllChildrenNumber:
      return allChildrenNumber(PathRequest::read(in), ctx, out);
    case OpCode::kGetEphemerals:
      return ephemerals(PathRequest::read(in), ctx, out);
    case OpCode::kCheckWatches:
    case OpCode::kRemoveWatches:
      return checkOrRemoveWatches(op, in, ctx);
    case OpCode::kAddWatch:
      return addWatch(in, ctx, out);
    case OpCode::kWhoAmI:
      return whoAmI(ctx, out);
    case OpCode::kMultiRead:
      return executeMultiRead(in, ctx, out);
    default:
      fail(Err::kUnimplemented);
  }
}

namespace {

bool isMultiRead(std::int32_t type) {
  return type == static_cast<int>(OpCode::kGetData) ||
         type == static_cast<int>(OpCode::kGetChildren);
}

// ZooKeeper decodes a whole multi record before running it: unknown op types, or reads and
// writes mixed, fail that decoding (MARSHALLINGERROR, no body). Writes alone decode, then the
// first one fails the multiRead with an empty result list as its body.
void checkMultiReadOps(jute::Reader in) {
  bool reads = false, writes = false;
  for (auto header = MultiHeader::read(in); !header.done; header = MultiHeader::read(in)) {
    if (isMultiRead(header.type)) {
      PathWatchRequest::read(in);
      reads = true;
    } else if (allowedInMulti(header.type)) {
      skipMultiOp(header.type, in);
      writes = true;
    } else {
      throw jute::DecodeError("multiRead: op type " + std::to_string(header.type));
    }
  }
  if (reads && writes) throw jute::DecodeError("multiRead mixes reads and writes");
  if (writes) {
    std::string body;
    jute::Writer out(body);
    MultiHeader{-1, true, -1}.write(out);
    throw PartialReadReply(std::move(body));
  }
}

}  // namespace

void executeMultiRead(jute::Reader& in, ReadContext& ctx, jute::Writer& out) {
  checkMultiReadOps(in);
  for (;;) {
    auto header = MultiHeader::read(in);
    if (header.done) break;
    auto req = PathWatchRequest::read(in);
    std::string body;
    jute::Writer bodyOut(body);
    std::int32_t err = 0;
    try {
      if (header.type == static_cast<int>(OpCode::kGetData)) {
        getData(req, ctx, bodyOut);
      } else {
        getChildren(req, false, ctx, bodyOut);
      }
    } catch (const KeeperError& e) {
      err = static_cast<std::int32_t>(e.code);
    }
    MultiHeader{err == 0 ? header.type : static_cast<int>(OpCode::kError), false, err}.write(out);
    if (err == 0) {
      out.writeRaw(body);
    } else {
      out.writeInt(err);
    }
  }
  MultiHeader{-1, true, -1}.write(out);
}

std::vector<WatcherEvent> rearmWatches(const SetWatchesRequest& req, ReadContext& ctx) {
  std::vector<WatcherEvent> fired;
  auto fire = [&](EventType type, const std::string& path) {
    fired.push_back({static_cast<int>(type), static_cast<int>(KeeperState::kSyncConnected), path});
  };
  for (const auto& path : req.dataWatches) {
    const Node* node = ctx.tree.find(path);
    if (node == nullptr) {
      fire(EventType::kNodeDeleted, path);
    } else if (node->stat.mzxid > req.relativeZxid) {
      fire(EventType::kNodeDataChanged, path);
    } else {
      ctx.watches.addDataWatch(path, ctx.sessionId);
    }
  }
  for (const auto& path : req.existWatches) {
    if (ctx.tree.find(path) != nullptr) {
      fire(EventType::kNodeCreated, path);
    } else {
      ctx.watches.addDataWatch(path, ctx.sessionId);
    }
  }
  for (const auto& path : req.childWatches) {
    const Node* node = ctx.tree.find(path);
    if (node == nullptr) {
      fire(EventType::kNodeDeleted, path);
    } else if (node->stat.pzxid > req.relativeZxid) {
      fire(EventType::kNodeChildrenChanged, path);
    } else {
      ctx.watches.addChildWatch(path, ctx.sessionId);
    }
  }
  for (const auto& path : req.persistentWatches)
    ctx.watches.addPersistentWatch(path, ctx.sessionId, false);
  for (const auto& path : req.persistentRecursiveWatches)
    ctx.watches.addPersistentWatch(path, ctx.sessionId, true);
  return fired;
}

}  // namespace zk

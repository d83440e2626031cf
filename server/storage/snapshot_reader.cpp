#include <algorithm>
#include <stdexcept>

#include "storage/snapshot.h"
#include "storage/txn_log.h"

namespace zk::storage {

SnapshotTrailer loadSnapshotFile(const std::filesystem::path& file, DataTree& tree,
                                 SessionMap& sessions) {
  tree.clear();
  sessions.clear();
  MappedFile mapped(file);
  SnapshotSink sink;
  sink.acl = [&](std::int64_t ref, AclList acl) { tree.aclCache().load(ref, std::move(acl)); };
  sink.node = [&](std::string_view path, std::optional<std::string_view> data, std::int64_t aclRef,
                  const StatPersisted& stat) { tree.loadNode(path, data, aclRef, stat); };
  try {
    SnapshotTrailer trailer = parseSnapshot(mapped.bytes(), sessions, sink);
    tree.finishLoad();
    return trailer;
  } catch (const std::exception& e) {  // StorageError, or the tree's missing-parent error
    tree.clear();
    sessions.clear();
    throw StorageError("invalid snapshot " + file.string() + ": " + e.what());
  }
}

std::int64_t loadNewestValidSnapshot(const std::filesystem::path& dataDir, DataTree& tree,
                                     SessionMap& sessions, const LogFn& log) {
  auto dir = dataDir / kVersionDir;
  std::vector<ZxidFile> snaps = listZxidFiles(dir, kSnapshotPrefix);
  std::reverse(snaps.begin(), snaps.end());
  for (const ZxidFile& snap : snaps) {
    if (!looksLikeCompleteSnapshot(snap.path)) {
      log("skipping incomplete snapshot " + snap.path.string());
      continue;
    }
    try {
      loadSnapshotFile(snap.path, tree, sessions);
      tree.setLastProcessedZxid(snap.zxid);
      return snap.zxid;
    } catch (const StorageError& e) {
      log(std::string("skipping ") + e.what());
    }
  }
  if (!snaps.empty()) {
    throw StorageError("none of the " + std::to_string(snaps.size()) + " snapshots in " +
                       dir.string() + " is valid; refusing to start from an empty tree");
  }
  return -1;
}

}  // namespace zk::storage

#include <algorithm>
#include <stdexcept>

#include "storage/snapshot.h"
#include "storage/snapshot_compression.h"
#include "storage/txn_log.h"

namespace zk::storage {

SnapshotTrailer loadSnapshotBytes(std::span<const std::uint8_t> bytes, DataTree& tree,
                                  SessionMap& sessions) {
  SnapshotBytes whole(bytes);
  return loadSnapshot(whole, tree, sessions);
}

SnapshotTrailer loadSnapshot(SnapshotBytes& bytes, DataTree& tree, SessionMap& sessions) {
  tree.clear();
  sessions.clear();
  SnapshotSink sink;
  sink.acl = [&](std::int64_t ref, AclList acl) { tree.aclCache().load(ref, std::move(acl)); };
  sink.node = [&](std::string_view path, std::optional<std::string_view> data, std::int64_t aclRef,
                  const StatPersisted& stat) { tree.loadNode(path, data, aclRef, stat); };
  try {
    SnapshotTrailer trailer = parseSnapshot(bytes, sessions, sink);
    tree.finishLoad();
    return trailer;
  } catch (const std::exception& e) {  // StorageError, or the tree's missing-parent error
    tree.clear();
    sessions.clear();
    throw StorageError(e.what());
  }
}

SnapshotTrailer loadSnapshotFile(const std::filesystem::path& file, DataTree& tree,
                                 SessionMap& sessions) {
  MappedFile mapped(file);
  try {
    SnapshotCompression compression = compressionOfFile(file.filename().string());
    if (compression == SnapshotCompression::kNone)
      return loadSnapshotBytes(mapped.bytes(), tree, sessions);
    // Decompressed a window at a time into the decoder, never whole (as ZooKeeper streams it).
    SnapshotDecompressor decompressor(mapped.bytes(), compression);
    SnapshotBytes plain(decompressor);
    return loadSnapshot(plain, tree, sessions);
  } catch (const StorageError& e) {
    throw StorageError("invalid snapshot " + file.string() + ": " + e.what());
  }
}

LoadedSnapshot loadNewestValidSnapshot(const std::filesystem::path& dataDir, DataTree& tree,
                                       SessionMap& sessions, const LogFn& log) {
  auto dir = dataDir / kVersionDir;
  std::vector<ZxidFile> snaps = listSnapshots(dir);
  std::reverse(snaps.begin(), snaps.end());
  std::string newestProblem;  // what was wrong with the newest one, for the refusal
  for (const ZxidFile& snap : snaps) {
    std::string problem;
    if (!looksLikeCompleteSnapshot(snap.path)) {
      std::error_code ec;
      auto size = std::filesystem::file_size(snap.path, ec);
      problem = "incomplete snapshot " + snap.path.string() + ": cut off at offset " +
                std::to_string(ec ? 0 : size) + " (it does not end with a seal)";
    } else {
      try {
        loadSnapshotFile(snap.path, tree, sessions);
        tree.setLastProcessedZxid(snap.zxid);
        return {snap.zxid, snap.path};
      } catch (const StorageError& e) {
        problem = e.what();
      }
    }
    log("skipping " + problem);
    if (newestProblem.empty()) newestProblem = problem;
  }
  if (!snaps.empty()) {
    throw StorageError("none of the " + std::to_string(snaps.size()) + " snapshots in " +
                       dir.string() + " is valid (newest: " + newestProblem +
                       "); refusing to start from an empty tree");
  }
  return {};
}

}  // namespace zk::storage

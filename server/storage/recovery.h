#pragma once
// Startup recovery (ZooKeeper's FileTxnSnapLog.restore): the newest valid snapshot, then every
// later txn of the log applied to the tree, keeping the session table as
// FileTxnSnapLog.processTransaction does.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "storage/snapshot_compression.h"
#include "storage/snapshot_format.h"
#include "storage/storage_error.h"
#include "tree/data_tree.h"

namespace zk::storage {

struct RecoveryOptions {
  // Tools: touch nothing on disk (no directory creation, no torn-tail truncation, no initial
  // snapshot).
  bool readOnly = false;
  // ZooKeeper's zookeeper.snapshot.trust.empty: replay logs even though no snapshot exists.
  bool trustEmptySnapshot = false;
  // How a fresh dataDir's first snapshot is stored.
  SnapshotCompression compression = SnapshotCompression::kNone;
  LogFn log = stderrLog();
};

struct RecoveryResult {
  SessionMap sessions;             // live sessions and their timeouts
  std::int64_t lastZxid = 0;       // last txn applied (the tree's lastProcessedZxid)
  std::int64_t snapshotZxid = -1;  // -1: none was found
  std::filesystem::path snapshotFile;
  std::uint64_t txnsReplayed = 0;
  std::optional<std::string> tornTail;  // which file/offset was cut, if any
  bool wroteInitialSnapshot = false;    // a fresh dataDir got snapshot.0, as ZooKeeper does
};

// Throws StorageError, with a message for the operator, when a directory is unusable, when
// snapshots exist but none is valid, when there are logs but no snapshot (unless trusted), or
// when the log is corrupt before its tail.
RecoveryResult recover(const std::filesystem::path& dataDir,
                       const std::filesystem::path& dataLogDir, DataTree& tree,
                       const RecoveryOptions& options = {});

}  // namespace zk::storage

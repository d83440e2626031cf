#pragma once
// Autopurge (ZooKeeper's PurgeTxnLog): keep the newest snapRetainCount valid snapshots and the
// log files needed to replay from the oldest of them; delete older snapshots and logs.

#include <filesystem>
#include <vector>

namespace zk::storage {

inline constexpr int kMinSnapRetainCount = 3;

struct PurgeResult {
  std::vector<std::filesystem::path> deleted;
};

// Throws std::invalid_argument when snapRetainCount < 3 (ZooKeeper's minimum), StorageError
// when a file cannot be removed. Does nothing while there is no valid snapshot.
PurgeResult purgeOldFiles(const std::filesystem::path& dataDir,
                          const std::filesystem::path& dataLogDir, int snapRetainCount);

}  // namespace zk::storage

#include "storage/purge.h"

#include <algorithm>
#include <set>
#include <stdexcept>

#include "storage/file_util.h"
#include "storage/snapshot_format.h"
#include "storage/txn_log.h"

namespace zk::storage {
namespace {

// "snapshot.<hex>" (plain or compressed) and our abandoned "snapshot.<hex>[.gz|.snappy].tmp".
std::optional<std::int64_t> snapshotZxid(std::string name) {
  if (name.ends_with(".tmp")) name.resize(name.size() - 4);
  return snapshotZxidOfName(name);
}

void removeFile(const std::filesystem::path& p, PurgeResult& result) {
  std::error_code ec;
  std::filesystem::remove(p, ec);
  if (ec) throw StorageError("cannot delete " + p.string() + ": " + ec.message());
  result.deleted.push_back(p);
}

}  // namespace

PurgeResult purgeOldFiles(const std::filesystem::path& dataDir,
                          const std::filesystem::path& dataLogDir, int snapRetainCount) {
  if (snapRetainCount < kMinSnapRetainCount) {
    throw std::invalid_argument("snapRetainCount must be at least 3");
  }
  auto snapDir = dataDir / kVersionDir;
  auto logDir = dataLogDir / kVersionDir;
  std::vector<ZxidFile> snaps = listSnapshots(snapDir);
  std::vector<std::int64_t> valid;
  for (auto it = snaps.rbegin(); it != snaps.rend() && valid.size() < std::size_t(snapRetainCount);
       ++it) {
    if (looksLikeCompleteSnapshot(it->path)) valid.push_back(it->zxid);
  }
  PurgeResult result;
  if (valid.empty()) return result;
  const std::int64_t oldestKept = valid.back();

  // A log named below the oldest kept snapshot may still hold txns after it: keep the newest
  // such log and everything later (ZooKeeper's getSnapshotLogs).
  std::set<std::filesystem::path> neededLogs;
  for (const auto& f : logFilesFrom(logDir, oldestKept)) neededLogs.insert(f.path);
  for (const auto& f : listZxidFiles(logDir, kLogPrefix)) {
    if (f.zxid < oldestKept && !neededLogs.contains(f.path)) removeFile(f.path, result);
  }
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(snapDir, ec)) {
    auto zxid = snapshotZxid(entry.path().filename().string());
    if (zxid && *zxid < oldestKept) removeFile(entry.path(), result);
  }
  return result;
}

}  // namespace zk::storage

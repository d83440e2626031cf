#include "storage/recovery.h"

#include "protocol/opcodes.h"
#include "storage/snapshot.h"
#include "storage/txn_log.h"

namespace zk::storage {
namespace {

void checkDirs(const std::filesystem::path& dataDir, const std::filesystem::path& dataLogDir) {
  for (const auto& dir : {dataDir / kVersionDir, dataLogDir / kVersionDir}) {
    try {
      ensureWritableDir(dir);
    } catch (const StorageError& e) {
      throw StorageError(std::string("data directory unusable: ") + e.what());
    }
  }
}

void replayOne(const Txn& txn, DataTree& tree, SessionMap& sessions) {
  const auto type = static_cast<OpCode>(txn.header.type);
  if (type == OpCode::kCreateSession) {
    if (const auto* body = std::get_if<CreateSessionTxn>(&txn.body)) {
      sessions[txn.header.clientId] = body->timeOut;
    }
  } else if (type == OpCode::kCloseSession) {
    sessions.erase(txn.header.clientId);
  }
  // Errors are expected here: a fuzzy snapshot already holds some effects of these txns.
  tree.apply(txn);
  if (txn.header.zxid > tree.lastProcessedZxid()) tree.setLastProcessedZxid(txn.header.zxid);
}

}  // namespace

RecoveryResult recover(const std::filesystem::path& dataDir,
                       const std::filesystem::path& dataLogDir, DataTree& tree,
                       const RecoveryOptions& options) {
  if (!options.readOnly) checkDirs(dataDir, dataLogDir);
  RecoveryResult result;
  LoadedSnapshot snapshot = loadNewestValidSnapshot(dataDir, tree, result.sessions, options.log);
  result.snapshotZxid = snapshot.zxid;
  result.snapshotFile = snapshot.file;
  const auto logDir = dataLogDir / kVersionDir;
  if (result.snapshotZxid < 0) {
    if (!logFilesFrom(logDir, 0).empty() && !options.trustEmptySnapshot) {
      throw StorageError("no snapshot in " + (dataDir / kVersionDir).string() +
                         " but transaction logs in " + logDir.string() +
                         ": refusing to start (a snapshot is missing; set trustEmptySnapshot "
                         "only when upgrading from ZooKeeper 3.4)");
    }
    tree.setLastProcessedZxid(0);
  }
  LogReadOptions logOptions;
  logOptions.repairTornTail = !options.readOnly;
  logOptions.log = options.log;
  LogReadResult log = readTxnLog(
      logDir, std::max<std::int64_t>(result.snapshotZxid, 0),
      [&](const Txn& txn) { replayOne(txn, tree, result.sessions); }, logOptions);
  result.txnsReplayed = log.delivered;
  result.tornTail = log.tornTail;
  result.lastZxid = tree.lastProcessedZxid();
  if (result.snapshotZxid < 0 && !options.readOnly) {
    // Like ZooKeeper, give a fresh dataDir a snapshot at once, so its logs never lack one.
    writeSnapshot(dataDir, result.lastZxid, result.sessions, tree, options.compression);
    result.wroteInitialSnapshot = true;
  }
  return result;
}

}  // namespace zk::storage

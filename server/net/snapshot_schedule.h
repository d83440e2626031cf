#pragma once
// When to write a snapshot, and writing it while the server goes on serving: after a random
// count of logged txns in [snapCount/2 + 1, snapCount] (as ZooKeeper does, so members of an
// ensemble do not all snapshot at once), a bounded chunk of nodes per turn of the event loop,
// then sealed on a background thread.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "net/asio.h"
#include "storage/snapshot.h"
#include "tree/data_tree.h"
#include "util/log.h"

namespace zk {

class SnapshotSchedule {
 public:
  // The snapshot written or loaded last (the AdminServer's last_snapshot); zxid -1: none.
  struct Mark {
    std::int64_t zxid = -1;
    std::int64_t timeSec = -1;
  };
  // What a snapshot needs from its owner: the log to roll (so the next txns start a new file
  // named after the snapshot's zxid) and the sessions open now.
  struct Source {
    std::function<void()> rollLog;
    std::function<storage::SessionMap()> sessions;
  };

  SnapshotSchedule(asio::io_context& io, Logger& log, std::filesystem::path dataDir,
                   storage::SnapshotCompression compression, std::int64_t snapCount,
                   const DataTree& tree, Source source);

  // One txn was logged (standalone, leader) or applied (learner).
  void countTxn();
  // A TRUNC or SNAP replaces the tree: an unfinished snapshot of the old one is dropped.
  void abandon();
  // No snapshot starts from now on (the server is stopping); an unfinished one is dropped.
  void stop();
  // The tree was (re)loaded from a snapshot at `zxid` (-1: none).
  void noteLoaded(std::int64_t zxid);
  const Mark& last() const { return last_; }

 private:
  std::int64_t nextThreshold();
  void start();
  void step();
  void onDone(std::uint64_t serial, const std::optional<std::string>& error);

  asio::io_context& io_;
  Logger& log_;
  std::filesystem::path dataDir_;
  storage::SnapshotCompression compression_;
  std::int64_t snapCount_;
  const DataTree& tree_;
  Source source_;
  std::mt19937_64 random_;
  std::int64_t txnsSince_ = 0;
  std::int64_t threshold_ = 0;
  std::unique_ptr<storage::SnapshotWriter> writer_;
  std::uint64_t serial_ = 0;  // of writer_, so a stale completion is recognised
  bool deferred_ = false;     // one fell due while writer_ was being written
  bool stopped_ = false;
  Mark last_;
};

}  // namespace zk

#pragma once
// The two halves of a SNAP that grow with the tree, kept off the event loop's critical path.
// SnapshotSends (leader): each learner's stream is encoded a bounded number of nodes per
// event-loop turn, and only while the learner keeps up, so pings and requests run in between
// and the leader holds at most a few MiB of it. The stream is fuzzy, as ZooKeeper's: it starts
// at the SNAP's zxid and the txns after it follow it on the link (docs/zab.md).
// SnapshotLoad (learner): the spooled snapshot is loaded into a fresh tree on another thread.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>

#include "net/asio.h"
#include "net/quorum_transport.h"
#include "storage/recovery.h"
#include "storage/snapshot_stream.h"
#include "tree/data_tree.h"
#include "util/log.h"

namespace zk {

class SnapshotSends {
 public:
  struct Limits {
    std::size_t nodesPerTurn = 2000;
    std::size_t maxBacklogBytes = std::size_t{4} << 20;
  };
  // `progress(sid)` runs each time a learner took another chunk (it is reading: it is alive).
  SnapshotSends(asio::io_context& io, Logger& log, QuorumTransport& transport, const DataTree& tree,
                std::function<void(std::int64_t sid)> progress, Limits limits);
  SnapshotSends(asio::io_context& io, Logger& log, QuorumTransport& transport, const DataTree& tree,
                std::function<void(std::int64_t sid)> progress)
      : SnapshotSends(io, log, transport, tree, std::move(progress), Limits{}) {}
  ~SnapshotSends() { *alive_ = false; }
  SnapshotSends(const SnapshotSends&) = delete;
  SnapshotSends& operator=(const SnapshotSends&) = delete;

  // Sends SNAP at `zxid` and streams the tree behind it. The tree must be at `zxid` now: if it
  // is not, this member fail-stops (util/fail_stop.h), as no learner can be synced from it.
  void start(std::int64_t to, std::int64_t zxid, const storage::SessionMap& sessions);
  void cancelAll();
  std::size_t active() const { return jobs_.size(); }

 private:
  struct Job {
    storage::SnapshotStreamEncoder encoder;
    QuorumTransport::SnapshotStream stream;
    std::int64_t zxid;
    std::uint64_t bytes = 0;
  };
  void schedule(bool now);
  void pump();
  // One step of one job: false once it is finished or abandoned.
  bool step(std::int64_t to, Job& job, bool& waiting);

  asio::io_context& io_;
  Logger& log_;
  QuorumTransport& transport_;
  const DataTree& tree_;
  std::function<void(std::int64_t)> progress_;
  Limits limits_;
  std::map<std::int64_t, Job> jobs_;
  asio::steady_timer retry_;
  bool scheduled_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// A snapshot file loaded, with the txn logs after it, into a tree of its own on another thread.
class SnapshotLoad {
 public:
  struct Loaded {
    DataTree tree;
    storage::RecoveryResult recovered;
  };
  SnapshotLoad(std::filesystem::path dataDir, std::filesystem::path dataLogDir, Logger& log);
  bool ready() const;
  Loaded take();  // rethrows what the load threw

 private:
  std::future<Loaded> result_;
};

}  // namespace zk

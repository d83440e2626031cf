#include "net/snapshot_sync.h"

#include <chrono>
#include <vector>

#include "util/fail_stop.h"

namespace zk {

SnapshotSends::SnapshotSends(asio::io_context& io, Logger& log, QuorumTransport& transport,
                             const DataTree& tree, std::function<void(std::int64_t sid)> progress,
                             Limits limits)
    : io_(io),
      log_(log),
      transport_(transport),
      tree_(tree),
      progress_(std::move(progress)),
      limits_(limits),
      retry_(io) {}

void SnapshotSends::start(std::int64_t to, std::int64_t zxid, const storage::SessionMap& sessions) {
  // Zab and the tree disagree on what this leader has applied: neither can be trusted to sync
  // a learner, nor to go on leading.
  if (tree_.lastProcessedZxid() != zxid)
    failStop(log_, "zab",
             "asked to send a SNAP at " + hex(zxid) + " to member " + std::to_string(to) +
                 " but the tree is at " + hex(tree_.lastProcessedZxid()));
  log_.info("zab", "SNAP to member " + std::to_string(to) + " from " + hex(zxid) + ": " +
                       std::to_string(tree_.nodeCount()) + " znodes, streamed in chunks");
  jobs_.erase(to);  // a learner that reconnected starts over on its new link
  auto stream = transport_.startSnapshot(to, zxid);
  if (stream.expired()) return;
  jobs_.emplace(to, Job{storage::SnapshotStreamEncoder(sessions, tree_), stream, zxid});
  schedule(true);
}

void SnapshotSends::cancelAll() {
  for (const auto& [to, job] : jobs_) QuorumTransport::endSnapshot(job.stream);
  jobs_.clear();
}

// Encoding goes on in the next turn when a learner can take more, after a short wait when
// every learner still has a backlog (the socket drains without telling us).
void SnapshotSends::schedule(bool now) {
  if (scheduled_ || jobs_.empty()) return;
  scheduled_ = true;
  auto run = [this, alive = alive_](const boost::system::error_code& ec = {}) {
    if (!*alive || ec) return;
    scheduled_ = false;
    pump();
  };
  if (now) return asio::post(io_, [run] { run(); });
  retry_.expires_after(std::chrono::milliseconds(2));
  retry_.async_wait(run);
}

void SnapshotSends::pump() {
  bool waiting = true;
  std::vector<std::int64_t> finished;
  for (auto& [to, job] : jobs_)
    if (!step(to, job, waiting)) finished.push_back(to);
  for (auto to : finished) jobs_.erase(to);
  schedule(!waiting);
}

bool SnapshotSends::step(std::int64_t to, Job& job, bool& waiting) {
  auto backlog = QuorumTransport::snapshotBacklog(job.stream);
  if (!backlog) {
    log_.info("zab", "SNAP to member " + std::to_string(to) + " abandoned: the link is gone");
    return false;
  }
  if (*backlog > limits_.maxBacklogBytes) return true;
  waiting = false;
  std::string chunk = job.encoder.nextChunk(tree_, limits_.nodesPerTurn);
  job.bytes += chunk.size();
  QuorumTransport::sendSnapshotChunk(job.stream, std::move(chunk));
  progress_(to);
  if (!job.encoder.done()) return true;
  QuorumTransport::endSnapshot(job.stream);
  log_.info("zab", "SNAP to member " + std::to_string(to) + ": " + std::to_string(job.bytes) +
                       " bytes, " + std::to_string(job.encoder.nodes()) + " znodes from " +
                       hex(job.zxid));
  return false;
}

SnapshotLoad::SnapshotLoad(std::filesystem::path dataDir, std::filesystem::path dataLogDir,
                           Logger& log)
    : result_(std::async(std::launch::async, [dataDir, dataLogDir, &log] {
        Loaded loaded;
        storage::RecoveryOptions options;
        options.log = [&log](std::string_view line) { log.info("storage", line); };
        loaded.recovered = storage::recover(dataDir, dataLogDir, loaded.tree, options);
        return loaded;
      })) {}

bool SnapshotLoad::ready() const {
  return result_.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
}

SnapshotLoad::Loaded SnapshotLoad::take() {
  return result_.get();
}

}  // namespace zk

#include "net/snapshot_schedule.h"

#include <utility>

#include "storage/file_util.h"
#include "util/wall_clock.h"

namespace zk {

SnapshotSchedule::SnapshotSchedule(asio::io_context& io, Logger& log, std::filesystem::path dataDir,
                                   storage::SnapshotCompression compression, std::int64_t snapCount,
                                   const DataTree& tree, Source source)
    : io_(io),
      log_(log),
      dataDir_(std::move(dataDir)),
      compression_(compression),
      snapCount_(snapCount),
      tree_(tree),
      source_(std::move(source)),
      random_(std::random_device{}()) {
  threshold_ = nextThreshold();
}

// Random in [snapCount/2 + 1, snapCount].
std::int64_t SnapshotSchedule::nextThreshold() {
  auto half = std::max<std::int64_t>(1, snapCount_ / 2);
  return half + 1 + static_cast<std::int64_t>(random_() % static_cast<std::uint64_t>(half));
}

// A snapshot that falls due while the previous one is still being written starts as soon as
// that one is done. ZooKeeper skips it instead and counts again from zero, which under a steady
// write load can leave several times snapCount txns to replay after a restart.
void SnapshotSchedule::countTxn() {
  if (++txnsSince_ < threshold_ || stopped_) return;
  if (!writer_) return start();
  if (std::exchange(deferred_, true)) return;
  log_.info("snapshot",
            "a snapshot is due while the previous one is still being written; it "
            "starts when that one is done");
}

void SnapshotSchedule::abandon() {
  writer_.reset();
}

void SnapshotSchedule::stop() {
  stopped_ = true;
  writer_.reset();  // an unfinished snapshot is abandoned; the log has everything
}

void SnapshotSchedule::noteLoaded(std::int64_t zxid) {
  last_ = {zxid, wallMs() / 1000};
}

void SnapshotSchedule::start() {
  txnsSince_ = 0;
  deferred_ = false;
  threshold_ = nextThreshold();
  source_.rollLog();
  storage::SessionMap sessions = source_.sessions();
  storage::SnapshotOptions options;
  options.dataDir = dataDir_;
  options.compression = compression_;
  options.log = [this](std::string_view line) { log_.info("snapshot", line); };
  ++serial_;
  writer_ = std::make_unique<storage::SnapshotWriter>(options, tree_.lastProcessedZxid(), sessions,
                                                      tree_);
  log_.info("snapshot", "writing " + writer_->path().filename().string() + " while serving");
  asio::post(io_, [this] { step(); });
}

void SnapshotSchedule::step() {
  if (!writer_ || stopped_) return;
  // A bounded chunk per turn of the loop keeps request latency flat during a snapshot.
  if (!writer_->writeChunk(tree_, 2000)) {
    asio::post(io_, [this] { step(); });
    return;
  }
  writer_->finishAsync([this, serial = serial_](const std::optional<std::string>& error) {
    asio::post(io_, [this, serial, error] { onDone(serial, error); });
  });
}

void SnapshotSchedule::onDone(std::uint64_t serial, const std::optional<std::string>& error) {
  // Abandoned by a TRUNC or SNAP meanwhile. A serial, not the writer's address: a writer made
  // since could sit at the abandoned one's address.
  if (!writer_ || serial != serial_) return;
  if (error) {
    log_.error("snapshot", "snapshot failed: " + *error);
    deferred_ = false;  // retried after the next snapCount txns, not in a loop
    txnsSince_ = 0;
  } else {
    log_.info("snapshot", "snapshot " + writer_->path().string() + " written (" +
                              std::to_string(writer_->nodesWritten()) + " znodes)");
    last_ = {writer_->zxid(), wallMs() / 1000};
  }
  writer_.reset();
  if (deferred_ && !stopped_) start();
}

}  // namespace zk

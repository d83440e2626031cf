#include <fcntl.h>

#include <future>
#include <stdexcept>

#include "storage/snapshot.h"
#include "storage/txn_log.h"

namespace zk::storage {

SnapshotWriter::SnapshotWriter(SnapshotOptions options, std::int64_t zxid,
                               const SessionMap& sessions, const DataTree& tree)
    : options_(std::move(options)), zxid_(zxid), compressor_(options_.compression) {
  auto dir = options_.dataDir / kVersionDir;
  ensureWritableDir(dir);
  finalPath_ = dir / zxidFileName(kSnapshotPrefix, zxid);
  finalPath_ += extensionOf(options_.compression);
  tmpPath_ = finalPath_;
  tmpPath_ += ".tmp";  // not a name ZooKeeper or our loader would ever read
  fd_ = Fd::open(tmpPath_, O_WRONLY | O_CREAT | O_TRUNC);

  std::vector<std::pair<std::int64_t, AclList>> acls;
  tree.aclCache().forEach(
      [&](std::int64_t ref, const AclList& acl) { acls.emplace_back(ref, acl); });
  encoder_.header();
  encoder_.sessions(sessions);
  encoder_.acls(acls);
  enqueue(encoder_.take());
  thread_ = std::thread([this] { run(); });
}

SnapshotWriter::~SnapshotWriter() {
  {
    std::lock_guard lock(mu_);
    if (!finishing_) abandon_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void SnapshotWriter::enqueue(std::string bytes) {
  if (bytes.empty()) return;
  std::lock_guard lock(mu_);
  pending_ += bytes.size();
  queue_.push_back(std::move(bytes));
  cv_.notify_one();
}

bool SnapshotWriter::writeChunk(const DataTree& tree, std::size_t maxNodes) {
  if (nodesDone_) return true;
  {
    std::lock_guard lock(mu_);
    if (pending_ > options_.maxPendingBytes) return false;
  }
  if (nodes_.encodeMore(tree, encoder_, maxNodes)) {
    nodesDone_ = true;
    encoder_.endNodes();
  }
  enqueue(encoder_.take());
  return nodesDone_;
}

void SnapshotWriter::finishAsync(DoneFn done) {
  if (!nodesDone_) throw std::logic_error("SnapshotWriter::finish before every node was written");
  encoder_.seal();
  std::string last = encoder_.take();
  std::lock_guard lock(mu_);
  pending_ += last.size();
  queue_.push_back(std::move(last));
  finishing_ = true;
  done_ = std::move(done);
  cv_.notify_one();
}

void SnapshotWriter::finish() {
  std::promise<std::optional<std::string>> result;
  auto future = result.get_future();
  finishAsync([&result](std::optional<std::string> error) { result.set_value(std::move(error)); });
  if (auto error = future.get()) throw StorageError(*error);
}

void SnapshotWriter::run() {
  for (;;) {
    std::deque<std::string> chunks;
    bool publish = false;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return abandon_ || finishing_ || !queue_.empty(); });
      if (abandon_) break;
      chunks.swap(queue_);
      publish = finishing_;
    }
    writeAndPublish(chunks, publish);
    if (publish) return;
  }
  fd_.reset();
  std::error_code ec;
  std::filesystem::remove(tmpPath_, ec);
}

void SnapshotWriter::writeAndPublish(std::deque<std::string>& chunks, bool publish) {
  std::size_t bytes = 0;
  for (const auto& chunk : chunks) {
    bytes += chunk.size();
    if (error_) continue;  // keep draining so the owner is not throttled forever
    try {
      store(compressor_.add(chunk));
    } catch (const std::exception& e) {
      error_ = e.what();
    }
  }
  {
    std::lock_guard lock(mu_);
    pending_ -= bytes;
  }
  if (!publish) return;
  try {
    if (error_) throw StorageError(*error_);
    store(compressor_.finish());
    fsyncFile(fd_.get(), false, tmpPath_);
    fd_.reset();
    std::filesystem::rename(tmpPath_, finalPath_);
    fsyncDir(finalPath_.parent_path());
  } catch (const std::exception& e) {
    error_ = std::string("snapshot ") + finalPath_.string() + ": " + e.what();
    fd_.reset();
    std::error_code ec;
    std::filesystem::remove(tmpPath_, ec);
    options_.log(*error_);
  }
  if (done_) done_(error_);
}

void SnapshotWriter::store(std::string_view stored) {
  pwriteAll(fd_.get(), stored, written_, tmpPath_);
  written_ += stored.size();
}

std::filesystem::path writeSnapshot(const std::filesystem::path& dataDir, std::int64_t zxid,
                                    const SessionMap& sessions, const DataTree& tree,
                                    SnapshotCompression compression) {
  SnapshotOptions options;
  options.dataDir = dataDir;
  options.compression = compression;
  SnapshotWriter writer(options, zxid, sessions, tree);
  while (!writer.writeChunk(tree, 4096)) std::this_thread::yield();
  writer.finish();
  return writer.path();
}

}  // namespace zk::storage

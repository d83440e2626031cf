#include <fcntl.h>
#include <zlib.h>

#include <cerrno>

#include "jute/writer.h"
#include "storage/txn_log.h"
#include "util/log.h"

namespace zk::storage {
namespace {

// ZooKeeper extends a log when fewer than this many bytes of preallocated room remain.
constexpr std::uint64_t kPadSlack = 4096;

std::uint32_t adler(std::string_view bytes) {
  return static_cast<std::uint32_t>(adler32(adler32(0, nullptr, 0),
                                            reinterpret_cast<const Bytef*>(bytes.data()),
                                            static_cast<uInt>(bytes.size())));
}

}  // namespace

std::string frameLogEntry(std::string_view txnBytes) {
  std::string out;
  out.reserve(txnBytes.size() + 13);
  jute::Writer w(out);
  w.writeLong(adler(txnBytes));
  w.writeInt(static_cast<std::int32_t>(txnBytes.size()));
  w.writeRaw(txnBytes);
  w.writeByte(kEndOfRecord);
  return out;
}

std::string logFileHeader(std::int64_t dbid) {
  std::string out;
  jute::Writer w(out);
  w.writeInt(kTxnLogMagic);
  w.writeInt(kFormatVersion);
  w.writeLong(dbid);
  return out;
}

TxnLogWriter::TxnLogWriter(TxnLogOptions options, DurableFn onDurable, FatalFn onFatal)
    : options_(std::move(options)),
      dir_(options_.dataLogDir / kVersionDir),
      onDurable_(std::move(onDurable)),
      onFatal_(std::move(onFatal)) {
  ensureWritableDir(dir_);
  thread_ = std::thread([this] { run(); });
}

TxnLogWriter::~TxnLogWriter() {
  stop();
}

bool TxnLogWriter::append(const Txn& txn) {
  return appendEncoded(txn.header.zxid, encodeTxn(txn));
}

bool TxnLogWriter::appendEncoded(std::int64_t zxid, std::string txnBytes) {
  if (txnBytes.empty()) return false;  // empty is the roll marker; no real txn is empty
  std::lock_guard lock(mu_);
  if (stopping_ || failed_) return false;
  queue_.push_back({zxid, std::move(txnBytes)});
  cv_.notify_one();
  return true;
}

void TxnLogWriter::rollLog() {
  std::lock_guard lock(mu_);
  if (stopping_ || failed_) return;
  queue_.push_back({});
  cv_.notify_one();
}

void TxnLogWriter::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

FsyncStats TxnLogWriter::fsyncStats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

bool TxnLogWriter::failed() const {
  std::lock_guard lock(mu_);
  return failed_;
}

std::string TxnLogWriter::failure() const {
  std::lock_guard lock(mu_);
  return failure_;
}

void TxnLogWriter::run() {
  std::vector<Item> batch;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) break;  // stopping, and everything is written
      batch.swap(queue_);
    }
    try {
      writeBatch(batch);
    } catch (const std::exception& e) {
      // Nothing after this point may be acknowledged: the txns of this batch are not durable.
      std::string reason = std::string("transaction log: ") + e.what() + describeZxids(batch);
      {
        std::lock_guard lock(mu_);
        failed_ = true;
        failure_ = reason;
        queue_.clear();
      }
      file_.reset();
      try {
        onFatal_(reason);
      } catch (...) {
        options_.log("transaction log: the fatal-error callback threw");
      }
      return;
    }
    batch.clear();
  }
  try {
    closeFile();
  } catch (const std::exception& e) {
    options_.log(std::string("transaction log: closing: ") + e.what());
  }
}

// " (txns 0x1 to 0x5 not durable)": which txns a failed batch leaves unacknowledged.
std::string TxnLogWriter::describeZxids(const std::vector<Item>& batch) {
  std::int64_t first = -1;
  std::int64_t last = -1;
  for (const auto& item : batch) {
    if (item.bytes.empty()) continue;  // a roll marker
    if (first < 0) first = item.zxid;
    last = item.zxid;
  }
  if (first < 0) return {};
  if (first == last) return " (txn " + hex(first) + " not durable)";
  return " (txns " + hex(first) + " to " + hex(last) + " not durable)";
}

void TxnLogWriter::writeBatch(std::vector<Item>& batch) {
  std::string buf;
  std::int64_t last = -1;
  auto flush = [&] {
    if (buf.empty()) return;
    ensureRoom(buf.size());
    pwriteAll(file_->fd.get(), buf, file_->pos, file_->path);
    file_->pos += buf.size();
    dirty_ = true;
    buf.clear();
  };
  for (Item& item : batch) {
    if (item.bytes.empty()) {  // roll: finish this file, the next txn opens a new one
      flush();
      closeFile();
      continue;
    }
    if (!file_) openFile(item.zxid);
    buf += frameLogEntry(item.bytes);
    last = item.zxid;
  }
  flush();
  syncFile();
  if (last >= 0) onDurable_(last);
}

void TxnLogWriter::openFile(std::int64_t firstZxid) {
  OpenFile f;
  f.path = dir_ / zxidFileName(kLogPrefix, firstZxid);
  // O_TRUNC: a file of that name can only be a leftover whose txns were all torn away.
  f.fd = Fd::open(f.path, O_RDWR | O_CREAT | O_TRUNC);
  file_ = std::move(f);
  ensureRoom(0);
  std::string header = logFileHeader(options_.dbid);
  pwriteAll(file_->fd.get(), header, 0, file_->path);
  file_->pos = header.size();
  dirty_ = true;
  fsyncDir(dir_);  // the new name must survive a crash along with its content
}

void TxnLogWriter::closeFile() {
  if (!file_) return;
  syncFile();
  file_.reset();
}

void TxnLogWriter::ensureRoom(std::uint64_t bytes) {
  auto prealloc = static_cast<std::uint64_t>(options_.preAllocSize);
  if (prealloc == 0 || file_->pos + bytes + kPadSlack < file_->size) return;
  std::uint64_t newSize = ((file_->pos + bytes + kPadSlack) / prealloc + 1) * prealloc;
  auto len = static_cast<off_t>(newSize - file_->size);
  int fd = file_->fd.get();
  // Real blocks (not a sparse hole) so a full disk fails here, not in the middle of a batch.
  if (::fallocate(fd, 0, static_cast<off_t>(file_->size), len) != 0) {
    if (errno != EOPNOTSUPP) throwErrno("cannot preallocate", file_->path);
    if (::ftruncate(fd, static_cast<off_t>(newSize)) != 0) {
      throwErrno("cannot extend", file_->path);
    }
  }
  file_->size = newSize;
}

void TxnLogWriter::syncFile() {
  if (!file_ || !dirty_) return;
  dirty_ = false;
  if (!options_.forceSync) return;
  auto start = std::chrono::steady_clock::now();
  fsyncFile(file_->fd.get(), true, file_->path);
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  {
    std::lock_guard lock(mu_);
    stats_.count++;
    stats_.lastMs = ms;
    stats_.maxMs = std::max(stats_.maxMs, ms);
    stats_.avgMs += (ms - stats_.avgMs) / static_cast<double>(stats_.count);
  }
  if (options_.onFsync) options_.onFsync(ms);
  if (ms > static_cast<double>(options_.fsyncWarning.count())) {
    options_.log("fsync-ing the write ahead log " + file_->path.string() + " took " +
                 std::to_string(static_cast<long long>(ms)) +
                 "ms which will adversely affect operation latency");
  }
}

}  // namespace zk::storage

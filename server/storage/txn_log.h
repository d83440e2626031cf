#pragma once
// ZooKeeper's transaction log, byte for byte (FileTxnLog): files <dir>/version-2/log.<hex zxid>
// named by their first zxid; a 16-byte FileHeader{"ZKLG", 2, dbid}; then entries
//   long adler32(txn bytes), int length, txn bytes, byte 'B'
// in a file preallocated with zeros, so the first zero length marks the end of the data.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "protocol/txn.h"
#include "storage/file_util.h"
#include "storage/storage_error.h"

namespace zk::storage {

inline constexpr std::int32_t kTxnLogMagic = 0x5a4b4c47;  // "ZKLG"
inline constexpr std::int32_t kFormatVersion = 2;
inline constexpr std::uint8_t kEndOfRecord = 0x42;  // 'B'
inline constexpr std::string_view kVersionDir = "version-2";
inline constexpr std::string_view kLogPrefix = "log";

// Frames one encoded txn as a log entry (checksum, length, bytes, 'B').
std::string frameLogEntry(std::string_view txnBytes);
std::string logFileHeader(std::int64_t dbid);

struct TxnLogOptions {
  std::filesystem::path dataLogDir;  // the version-2 subdirectory is added here
  std::int64_t preAllocSize = 64 * 1024 * 1024;
  bool forceSync = true;  // zookeeper.forceSync; false skips fdatasync (unsafe, for tests)
  std::chrono::milliseconds fsyncWarning{1000};  // fsync.warningthresholdms
  std::int64_t dbid = 0;
  LogFn log = stderrLog();
  // Called on the writer thread after each fdatasync with how long it took.
  std::function<void(double ms)> onFsync;
};

struct FsyncStats {
  double lastMs = 0;
  double avgMs = 0;
  double maxMs = 0;
  std::uint64_t count = 0;
};

// Group commit on a dedicated thread. The owner thread calls append() (encode + enqueue); the
// writer thread takes everything queued, writes it with one pwrite, fdatasyncs once, then calls
// onDurable(last zxid of that batch) on the writer thread. Appends that arrive during an fsync
// form the next batch, so batches grow exactly when the disk is slow.
// An I/O error calls onFatal once; from then on nothing is acknowledged and append() returns
// false: the server must stop accepting writes.
class TxnLogWriter {
 public:
  using DurableFn = std::function<void(std::int64_t lastDurableZxid)>;
  using FatalFn = std::function<void(std::string reason)>;

  TxnLogWriter(TxnLogOptions options, DurableFn onDurable, FatalFn onFatal);
  TxnLogWriter(const TxnLogWriter&) = delete;
  TxnLogWriter& operator=(const TxnLogWriter&) = delete;
  ~TxnLogWriter();

  // Returns false (and drops the txn) once stopped or failed.
  bool append(const Txn& txn);
  // The same with bytes already encoded by encodeTxn (e.g. received from a leader).
  bool appendEncoded(std::int64_t zxid, std::string txnBytes);
  // The next append starts a new file (called when a snapshot starts, as ZooKeeper does).
  void rollLog();
  // Writes and syncs everything queued, then joins the thread. Idempotent.
  void stop();

  FsyncStats fsyncStats() const;
  bool failed() const;
  // Why the writer failed (the file, the call and errno), or empty while it has not.
  std::string failure() const;

 private:
  struct Item {
    std::int64_t zxid = 0;
    std::string bytes;  // empty = roll marker
  };
  struct OpenFile {
    Fd fd;
    std::filesystem::path path;
    std::uint64_t pos = 0;   // end of written data
    std::uint64_t size = 0;  // preallocated size
  };

  void run();
  void writeBatch(std::vector<Item>& batch);
  static std::string describeZxids(const std::vector<Item>& batch);
  void openFile(std::int64_t firstZxid);
  void closeFile();
  void ensureRoom(std::uint64_t bytes);
  void syncFile();

  TxnLogOptions options_;
  std::filesystem::path dir_;
  DurableFn onDurable_;
  FatalFn onFatal_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Item> queue_;
  bool stopping_ = false;
  bool failed_ = false;
  std::string failure_;
  FsyncStats stats_;

  // Writer-thread state.
  std::optional<OpenFile> file_;
  bool dirty_ = false;
  std::thread thread_;
};

// ---- Reading ----

struct LogFileInfo {
  std::int64_t firstZxid;  // from the name
  std::filesystem::path path;
};

// The files needed to see every txn after `zxid`: the newest file whose first zxid <= zxid,
// and all later ones (ZooKeeper's FileTxnLog.getLogFiles).
std::vector<ZxidFile> logFilesFrom(const std::filesystem::path& versionDir, std::int64_t zxid);

struct LogReadOptions {
  // Cut a torn tail off the last file on disk (true for a server; false for read-only tools).
  bool repairTornTail = true;
  LogFn log = stderrLog();
};

struct LogReadResult {
  std::int64_t lastZxid = -1;  // last txn seen in the files read (also those <= afterZxid)
  std::uint64_t delivered = 0;
  std::optional<std::string> tornTail;  // "file at offset: reason", when one was dropped
};

// Calls fn for every txn with zxid > afterZxid across the log files of `versionDir`, in order.
// A bad record at the end of the newest file, followed only by zeros or EOF, is a torn write:
// it is dropped (and truncated away when repairTornTail). So is one at the end of an older
// file when the next file (or afterZxid) follows on from its last whole record, so that no txn
// is missing. Any other bad record throws
// StorageError naming the file, the offset and the reason.
LogReadResult readTxnLog(const std::filesystem::path& versionDir, std::int64_t afterZxid,
                         const std::function<void(const Txn&)>& fn, const LogReadOptions& = {});

// Zab's TRUNC: removes every txn above `zxid` from the log (later files are deleted, the file
// holding `zxid` is cut after it), so the member's log matches its new leader's. The writer
// must be stopped while this runs. Returns how many txns were removed.
std::uint64_t truncateTxnLog(const std::filesystem::path& versionDir, std::int64_t zxid,
                             const LogFn& log = stderrLog());

// Every entry of one file, for tools; stops at the end of data, throws on a bad record.
void readLogFile(const std::filesystem::path& file,
                 const std::function<void(const Txn&, std::uint64_t offset)>& fn);

}  // namespace zk::storage

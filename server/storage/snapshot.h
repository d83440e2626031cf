#pragma once
// Snapshots of the data tree in ZooKeeper's format (see snapshot_format.h): fuzzy writing in
// chunks between requests, loading the newest valid one, and the file names.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>

#include "storage/file_util.h"
#include "storage/node_cursor.h"
#include "storage/snapshot_compression.h"
#include "storage/snapshot_format.h"
#include "tree/data_tree.h"

namespace zk::storage {

struct SnapshotOptions {
  std::filesystem::path dataDir;  // the version-2 subdirectory is added here
  // writeChunk() serializes nothing while more than this many bytes wait for the disk, so a
  // slow disk cannot make the buffered snapshot grow without bound.
  std::size_t maxPendingBytes = 64 * 1024 * 1024;
  // How the file is stored (snapshot.compression.method); its name says so, as ZooKeeper's.
  SnapshotCompression compression = SnapshotCompression::kNone;
  LogFn log = stderrLog();
};

// A fuzzy snapshot, written while the tree keeps changing (as ZooKeeper does). Lives on the
// owner thread of the tree: construct it with the zxid and sessions at the start, then call
// writeChunk() between requests until it returns true, then finish(). The bytes go to
// "snapshot.<zxid>.tmp" on the snapshot's own background thread; finish() seals the file,
// fsyncs it, renames it to "snapshot.<zxid>" and fsyncs the directory, so a crash never leaves
// a half snapshot under a name recovery would trust. With compression the background thread
// compresses the bytes on their way to the file, which is named "snapshot.<zxid>.gz" or
// ".snappy". Recovery replays the log from <zxid>,
// which repairs whatever changed while the chunks were taken.
// Roll the txn log (TxnLogWriter::rollLog) when starting one, as ZooKeeper does.
// ACL lists are captured at construction; a node whose list was first interned after that is
// written with its reference but without the list (ZooKeeper has the same window).
class SnapshotWriter {
 public:
  using DoneFn = std::function<void(std::optional<std::string> error)>;

  SnapshotWriter(SnapshotOptions options, std::int64_t zxid, const SessionMap& sessions,
                 const DataTree& tree);
  SnapshotWriter(const SnapshotWriter&) = delete;
  SnapshotWriter& operator=(const SnapshotWriter&) = delete;
  // Abandons an unfinished snapshot (the temp file is removed); waits for a finished one.
  ~SnapshotWriter();

  // Serializes up to maxNodes more nodes. True once every node is written.
  bool writeChunk(const DataTree& tree, std::size_t maxNodes);
  // Seals and publishes in the background; `done` runs on the background thread. Call after
  // writeChunk returned true.
  void finishAsync(DoneFn done);
  // The same, waiting; throws StorageError on failure.
  void finish();

  std::int64_t zxid() const { return zxid_; }
  std::filesystem::path path() const { return finalPath_; }
  std::uint64_t nodesWritten() const { return nodes_.nodes(); }

 private:
  void run();
  void enqueue(std::string bytes);
  void writeAndPublish(std::deque<std::string>& chunks, bool publish);
  void store(std::string_view stored);  // background thread: append to the temp file

  SnapshotOptions options_;
  std::int64_t zxid_;
  std::filesystem::path tmpPath_;
  std::filesystem::path finalPath_;
  SnapshotEncoder encoder_;
  NodeCursor nodes_;
  bool nodesDone_ = false;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::size_t pending_ = 0;
  bool finishing_ = false;
  bool abandon_ = false;
  DoneFn done_;
  std::thread thread_;

  // Background thread state.
  SnapshotCompressor compressor_;
  Fd fd_;
  std::uint64_t written_ = 0;
  std::optional<std::string> error_;
};

// Writes a complete snapshot at once (first start, tools, tests).
std::filesystem::path writeSnapshot(const std::filesystem::path& dataDir, std::int64_t zxid,
                                    const SessionMap& sessions, const DataTree& tree,
                                    SnapshotCompression compression = SnapshotCompression::kNone);

struct LoadedSnapshot {
  std::int64_t zxid = -1;  // -1: there was no snapshot at all
  std::filesystem::path file;
};

// Loads the newest snapshot in <dataDir>/version-2 that parses and seals correctly, trying
// older ones when the newest is damaged (with a log line each), as ZooKeeper does. Throws
// StorageError when snapshots exist but none is valid. The tree and sessions are replaced.
LoadedSnapshot loadNewestValidSnapshot(const std::filesystem::path& dataDir, DataTree& tree,
                                       SessionMap& sessions, const LogFn& log = stderrLog());

// Loads one snapshot's bytes (a file's, or a SNAP's as SnapshotStreamScanner made them) into a
// cleared tree; throws StorageError naming the offset if they are invalid.
SnapshotTrailer loadSnapshotBytes(std::span<const std::uint8_t> bytes, DataTree& tree,
                                  SessionMap& sessions);

// The same, as a decoder pulls them (a decompressing file's, a window at a time).
SnapshotTrailer loadSnapshot(SnapshotBytes& bytes, DataTree& tree, SessionMap& sessions);

// Loads one snapshot file into a cleared tree; throws StorageError if it is invalid.
SnapshotTrailer loadSnapshotFile(const std::filesystem::path& file, DataTree& tree,
                                 SessionMap& sessions);

}  // namespace zk::storage

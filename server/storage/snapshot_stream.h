#pragma once
// The snapshot a ZooKeeper leader streams to a learner after a SNAP packet: the sessions and
// the tree exactly as in a snapshot file, but with no file header and no checksum seal, ended
// by the string "BenWasHere" (LearnerHandler.syncFollower / Learner.syncWithLeader). There is
// no length prefix, so the receiver finds the end by walking the records.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "storage/file_util.h"
#include "storage/node_cursor.h"
#include "storage/snapshot_format.h"
#include "tree/data_tree.h"

namespace zk::storage {

// The stream for SNAP, produced in chunks between requests so that a large tree never holds
// the event loop: sessions and ACL cache at construction, then nodes a chunk at a time, then
// "/" and "BenWasHere". Fuzzy, as ZooKeeper's and as SnapshotWriter's: the tree may change
// between chunks, and the learner repairs that by replaying every txn after the zxid the
// stream started at (the leader sends them right behind it; replay is idempotent).
class SnapshotStreamEncoder {
 public:
  SnapshotStreamEncoder(const SessionMap& sessions, const DataTree& tree);
  // The next bytes of the stream, with up to maxNodes more nodes; the first call also carries
  // the sessions and ACLs, the last one the end of the stream.
  std::string nextChunk(const DataTree& tree, std::size_t maxNodes);
  bool done() const { return done_; }
  std::uint64_t nodes() const { return nodes_.nodes(); }

 private:
  SnapshotEncoder encoder_;
  NodeCursor nodes_;
  bool done_ = false;
};

// The whole stream at once (tests, fuzzing seeds).
std::string encodeSnapshotStream(const SessionMap& sessions, const DataTree& tree);

// Walks a SNAP stream as its bytes arrive, however they are split. The records it has seen
// whole (the body of a snapshot file) are taken as they come, so nothing holds the stream.
class SnapshotStreamScanner {
 public:
  struct NeedMore {};
  struct Done {
    std::string leftover;  // bytes after the signature: the packets that follow
  };
  struct Malformed {
    std::string reason;
  };
  using Result = std::variant<NeedMore, Done, Malformed>;

  explicit SnapshotStreamScanner(std::size_t maxBytes = std::size_t{1} << 32)
      : maxBytes_(maxBytes) {}
  Result feed(std::string_view bytes);
  // The records complete since the last call, in stream order (no header, no seal).
  std::string takeRecords();

 private:
  enum class Phase { SessionCount, Sessions, AclCount, Acls, Nodes, Signature };
  // Parses one record at buffer_[pos_]; false when it is not all there yet.
  bool step();
  Phase phase_ = Phase::SessionCount;
  std::int64_t remaining_ = 0;
  std::string buffer_;
  std::size_t pos_ = 0;
  std::size_t bodyEnd_ = 0;  // where the signature starts
  bool done_ = false;
  std::size_t received_ = 0;
  std::size_t maxBytes_;
};

// Header + records + seal: the snapshot file a whole stream's records make.
std::string sealedSnapshotFile(std::string_view records);

// Writes a SNAP stream's records to a snapshot file as they arrive: the header at once, the
// records appended (their checksum kept running), the seal and an fsync at finish().
class SnapshotSpool {
 public:
  explicit SnapshotSpool(std::filesystem::path path);
  // An unfinished spool (the link dropped mid-stream) removes its file.
  ~SnapshotSpool();
  SnapshotSpool(const SnapshotSpool&) = delete;
  SnapshotSpool& operator=(const SnapshotSpool&) = delete;
  void append(std::string_view records);
  void finish();
  const std::filesystem::path& path() const { return path_; }
  std::uint64_t bytes() const { return written_; }

 private:
  void flush();
  std::filesystem::path path_;
  Fd fd_;
  SnapshotEncoder encoder_;
  std::uint64_t written_ = 0;
  bool finished_ = false;
};

}  // namespace zk::storage

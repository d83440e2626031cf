#pragma once
// ZooKeeper's snapshot file format (FileSnap + SerializeUtils + DataTree.serialize), independent
// of the data tree:
//   FileHeader{int "ZKSN", int 2, long dbid -1}
//   int sessionCount, (long id, int timeout)*
//   int aclCount, (long ref, vector<ACL>)*
//   (string path, buffer data, long aclRef, StatPersisted)*  parent first; root's path is ""
//   string "/"                                              end of nodes
//   long adler32(every byte so far), string "/"             the seal
// ZooKeeper 3.6+ may add ZxidDigest{long zxid, int version, long digest} + seal and then
// long lastProcessedZxid + seal; the checksum keeps running across seals. We read those and
// never write them (ZooKeeper treats their absence as an older snapshot).

#include <cstdint>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "jute/reader.h"
#include "protocol/records.h"
#include "storage/file_util.h"
#include "storage/snapshot_compression.h"
#include "storage/storage_error.h"

namespace zk::storage {

inline constexpr std::int32_t kSnapshotMagic = 0x5a4b534e;  // "ZKSN"
inline constexpr std::string_view kSnapshotPrefix = "snapshot";

using SessionMap = std::map<std::int64_t, std::int32_t>;  // session id -> timeout (ms)

// Appends snapshot sections to an internal buffer while keeping the running Adler32, so the
// bytes can be handed to a writer in chunks (take()) without losing the checksum.
class SnapshotEncoder {
 public:
  void header(std::int64_t dbid = -1);
  void sessions(const SessionMap& sessions);
  void acls(const std::vector<std::pair<std::int64_t, AclList>>& acls);
  // `path` as stored: "" for the root.
  void node(std::string_view path, std::optional<std::string_view> data, std::int64_t aclRef,
            const StatPersisted& stat);
  void endNodes();
  // Bytes already in this format (the records of a leader's SNAP stream).
  void raw(std::string_view bytes) { buf_.append(bytes); }
  void seal();

  std::size_t buffered() const { return buf_.size(); }
  std::string take();  // the bytes since the last take(), checksummed
  std::uint64_t total() const { return total_; }

 private:
  std::string buf_;
  std::uint32_t adler_ = 1;
  std::uint64_t total_ = 0;
  std::size_t summed_ = 0;  // prefix of buf_ already in adler_
  void sum();
};

struct SnapshotTrailer {
  std::optional<std::int64_t> digestZxid;
  std::optional<std::int64_t> digest;
  std::optional<std::int64_t> lastProcessedZxid;
};

struct SnapshotSink {
  std::function<void(std::int64_t ref, AclList acl)> acl;
  // Paths as stored ("" for the root). The views point into the snapshot's bytes: a node
  // costs the tree's one allocation and no copies on the way.
  // Data is nullopt for a null buffer, which ZooKeeper keeps apart from an empty one.
  std::function<void(std::string_view path, std::optional<std::string_view> data,
                     std::int64_t aclRef, const StatPersisted& stat)>
      node;
};

// The plain bytes of a snapshot as its decoder pulls them: all at once (a mapped file, a SNAP's
// records; nothing is copied) or from a decompressor, of which only a window is held: the
// record being decoded and what was pulled after it. The checksum the seals carry is kept
// over the bytes as they leave the window.
class SnapshotBytes {
 public:
  static constexpr std::size_t kWindow = 1 << 20;

  explicit SnapshotBytes(std::span<const std::uint8_t> whole);
  // `window`: how much to pull at a time (tests make it tiny); a record longer than that
  // grows the window to hold it.
  explicit SnapshotBytes(SnapshotDecompressor& source, std::size_t window = kWindow);
  SnapshotBytes(const SnapshotBytes&) = delete;
  SnapshotBytes& operator=(const SnapshotBytes&) = delete;

  // Runs `parse` on a reader at the next record and moves past what it read. When the record
  // runs past the bytes held, more are pulled and `parse` runs again from the record's start,
  // so it must act only once it has read the whole record. The views it reads stay valid
  // until the next call. Errors name offsets from the snapshot's start.
  template <typename Parse>
  auto record(Parse&& parse) {
    for (;;) {
      jute::Reader in(window().subspan(pos_), origin_ + pos_);
      try {
        auto result = parse(in);
        pos_ += in.offset();
        return result;
      } catch (const jute::TruncatedError&) {
        if (!pullMore()) throw;
      }
    }
  }
  // Everything left, pulled to the end (the trailer: a few dozen bytes when valid); the
  // reader's offsets count from offset().
  std::span<const std::uint8_t> rest();
  std::uint64_t offset() const { return origin_ + pos_; }
  // Adler32 of every byte before `offset`, which is at or after the previous call's and at
  // or before what is held.
  std::uint32_t checksumBefore(std::uint64_t offset);
  // The most plain bytes held at once.
  std::size_t largestWindow() const { return largest_; }

 private:
  std::span<const std::uint8_t> window() const;
  bool pullMore();  // false at the end

  SnapshotDecompressor* source_ = nullptr;
  std::span<const std::uint8_t> whole_;
  std::vector<std::uint8_t> buffer_;
  std::size_t filled_ = 0;
  std::size_t pull_ = 0;
  std::uint64_t origin_ = 0;  // offset of the window's first byte in the snapshot
  std::size_t pos_ = 0;       // next record, in the window
  std::size_t largest_ = 0;
  std::uint64_t summed_ = 0;  // bytes [0, summed_) are in adler_
  std::uint32_t adler_ = 1;
  // A large whole snapshot has most of its bytes summed on another thread while the nodes
  // are parsed, up to a point its first seal cannot lie before.
  std::size_t headEnd_ = 0;
  std::future<std::uint32_t> head_;  // its destructor joins
};

// Decodes a whole snapshot, calling the sink as it goes. Throws StorageError (bad magic,
// truncation, checksum or seal mismatch, trailing garbage) naming the offset.
SnapshotTrailer parseSnapshot(SnapshotBytes& bytes, SessionMap& sessions, const SnapshotSink& sink);
SnapshotTrailer parseSnapshot(std::span<const std::uint8_t> bytes, SessionMap& sessions,
                              const SnapshotSink& sink);

// ZooKeeper's cheap validity test (SnapStream.isValidSnapshot): a plain snapshot long enough
// and ending with the seal's string "/"; a compressed one starting with its method's magic.
// Used to pick candidates before a full parse.
bool looksLikeCompleteSnapshot(const std::filesystem::path& file);

// The zxid a snapshot's file name carries: "snapshot.<hex>", plain or with the extension of a
// compression method (".gz", ".snappy"); nullopt for any other name.
std::optional<std::int64_t> snapshotZxidOfName(std::string_view fileName);
// The snapshots in a version-2 directory, plain and compressed, oldest first.
std::vector<ZxidFile> listSnapshots(const std::filesystem::path& versionDir);

}  // namespace zk::storage

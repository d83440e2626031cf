#pragma once
// ZooKeeper 3.8's snapshot compression (zookeeper.snapshot.compression.method): a snapshot may
// be stored gzip'ed ("snapshot.<zxid>.gz") or in snappy-java's stream format
// ("snapshot.<zxid>.snappy"). The bytes inside, seal and checksum included, are the plain
// snapshot's; only the file around them differs. As in ZooKeeper, the file name says how a
// snapshot is stored, so every snapshot is readable whatever the server writes now.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <zlib.h>

namespace zk::storage {

enum class SnapshotCompression { kNone, kGzip, kSnappy };

// ZooKeeper's names for the methods: "" (none), "gz", "snappy"; case does not matter.
// nullopt for any other name (ZooKeeper then falls back to none).
std::optional<SnapshotCompression> compressionNamed(std::string_view method);
// The extension a snapshot stored so carries: "", ".gz" or ".snappy".
std::string_view extensionOf(SnapshotCompression compression);
// How a snapshot file is stored, from its name's last extension (as ZooKeeper's SnapStream).
SnapshotCompression compressionOfFile(std::string_view fileName);

// Compresses a snapshot's bytes as they are produced, chunk by chunk, into the stored form.
class SnapshotCompressor {
 public:
  explicit SnapshotCompressor(SnapshotCompression compression);
  SnapshotCompressor(const SnapshotCompressor&) = delete;
  SnapshotCompressor& operator=(const SnapshotCompressor&) = delete;
  ~SnapshotCompressor();

  // The stored bytes for `chunk` (possibly none yet: compressors buffer).
  std::string add(std::string_view chunk);
  // The rest of the stored bytes; the compressor is done after it.
  std::string finish();

 private:
  std::string deflate(std::string_view in, int flush);
  std::string snappyBlocks(bool all);

  SnapshotCompression compression_;
  z_stream zlib_{};
  bool zlibReady_ = false;
  std::string pending_;  // snappy: bytes not yet in a full block
  bool headerWritten_ = false;
};

// The plain bytes of a stored snapshot, a piece at a time: zlib inflating into the caller's
// buffer, or one snappy block (32 KiB in snappy-java's streams) at a time, so that loading a
// compressed snapshot never holds its plain bytes whole. Throws StorageError naming the offset
// in the stored file where its stored form is broken.
class SnapshotDecompressor {
 public:
  SnapshotDecompressor(std::span<const std::uint8_t> stored, SnapshotCompression compression);
  SnapshotDecompressor(const SnapshotDecompressor&) = delete;
  SnapshotDecompressor& operator=(const SnapshotDecompressor&) = delete;
  ~SnapshotDecompressor();

  // Fills `out` with the next plain bytes; fewer only at the end, 0 once there.
  std::size_t read(std::span<std::uint8_t> out);

 private:
  std::size_t inflateInto(std::span<std::uint8_t> out);
  std::size_t unsnappyInto(std::span<std::uint8_t> out);
  bool nextSnappyBlock();  // false at the end of the stored bytes

  std::span<const std::uint8_t> stored_;
  SnapshotCompression compression_;
  std::size_t pos_ = 0;  // stored bytes handed to zlib, or the next snappy block
  z_stream zlib_{};
  bool zlibReady_ = false;
  bool ended_ = false;
  std::vector<std::uint8_t> block_;  // snappy: the current block's plain bytes
  std::size_t blockPos_ = 0;
};

// The whole plain snapshot at once (tests, fuzzing); throws as SnapshotDecompressor.
std::vector<std::uint8_t> decompressSnapshot(std::span<const std::uint8_t> stored,
                                             SnapshotCompression compression);

// Whether a stored snapshot starts as its method's files do (ZooKeeper's check before it
// trusts a compressed snapshot: the gzip or snappy-java magic).
bool hasCompressionMagic(std::span<const std::uint8_t> head, SnapshotCompression compression);

}  // namespace zk::storage

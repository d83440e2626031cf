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

// The plain snapshot bytes of a stored one; throws StorageError naming the offset in the file
// where its stored form is broken.
std::vector<std::uint8_t> decompressSnapshot(std::span<const std::uint8_t> stored,
                                             SnapshotCompression compression);

// Whether a stored snapshot starts as its method's files do (ZooKeeper's check before it
// trusts a compressed snapshot: the gzip or snappy-java magic).
bool hasCompressionMagic(std::span<const std::uint8_t> head, SnapshotCompression compression);

}  // namespace zk::storage

// libFuzzer target: arbitrary bytes as a snapshot, both ways one reaches a member: as a file
// loaded at start, and as the stream a leader sends after SNAP (scanned in chunks, then loaded).
// A tree that loads must survive being streamed to a learner and loaded again, unchanged.
// The same bytes are also read as a compressed snapshot file (gzip, snappy-java), whose
// decompressed bytes must survive compression and decompression unchanged, and load through a
// small window as they load whole.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "fuzz_chunks.h"
#include "storage/snapshot.h"
#include "storage/snapshot_compression.h"
#include "storage/snapshot_stream.h"

namespace {

using zk::storage::SessionMap;

std::span<const std::uint8_t> asBytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

bool load(std::span<const std::uint8_t> bytes, zk::DataTree& tree, SessionMap& sessions) {
  try {
    zk::storage::loadSnapshotBytes(bytes, tree, sessions);
    return true;
  } catch (const zk::storage::StorageError&) {
    return false;
  }
}

// What a leader would send of this tree must scan and load back to the same tree.
void checkResend(const zk::DataTree& tree, const SessionMap& sessions) {
  std::string stream = zk::storage::encodeSnapshotStream(sessions, tree);
  zk::storage::SnapshotStreamScanner scanner;
  auto result = scanner.feed(stream);
  auto* done = std::get_if<zk::storage::SnapshotStreamScanner::Done>(&result);
  if (done == nullptr || !done->leftover.empty()) __builtin_trap();
  std::string file = zk::storage::sealedSnapshotFile(scanner.takeRecords());
  zk::DataTree again;
  SessionMap sessionsAgain;
  if (!load(asBytes(file), again, sessionsAgain)) __builtin_trap();
  if (again.nodeCount() != tree.nodeCount() || sessionsAgain != sessions) __builtin_trap();
}

void asStream(std::string_view bytes) {
  zk::storage::SnapshotStreamScanner scanner(1u << 20);
  std::string records;
  zk::fuzz::feedInChunks(bytes, [&](std::string_view chunk) {
    auto result = scanner.feed(chunk);
    records += scanner.takeRecords();
    if (std::holds_alternative<zk::storage::SnapshotStreamScanner::NeedMore>(result)) return true;
    if (std::holds_alternative<zk::storage::SnapshotStreamScanner::Done>(result)) {
      std::string file = zk::storage::sealedSnapshotFile(records);
      zk::DataTree tree;
      SessionMap sessions;
      if (load(asBytes(file), tree, sessions)) checkResend(tree, sessions);
    }
    return false;
  });
}

void asCompressedFile(std::span<const std::uint8_t> bytes, zk::storage::SnapshotCompression how) {
  std::vector<std::uint8_t> plain;
  try {
    plain = zk::storage::decompressSnapshot(bytes, how);
  } catch (const zk::storage::StorageError&) {
    return;
  }
  zk::storage::SnapshotCompressor compressor(how);
  std::string stored = compressor.add(zk::fuzz::asChars(plain.data(), plain.size()));
  stored += compressor.finish();
  if (zk::storage::decompressSnapshot(asBytes(stored), how) != plain) __builtin_trap();
  zk::DataTree tree;
  SessionMap sessions;
  const bool loaded = load(plain, tree, sessions);
  // Pulled through a small window, as a file is loaded, the stored bytes load as the plain do.
  zk::storage::SnapshotDecompressor decompressor(bytes, how);
  zk::storage::SnapshotBytes pulled(decompressor, 61);
  zk::DataTree pulledTree;
  SessionMap pulledSessions;
  bool pulledLoaded = true;
  try {
    zk::storage::loadSnapshot(pulled, pulledTree, pulledSessions);
  } catch (const zk::storage::StorageError&) {
    pulledLoaded = false;
  }
  if (pulledLoaded != loaded) __builtin_trap();
  if (loaded && (pulledTree.nodeCount() != tree.nodeCount() || pulledSessions != sessions))
    __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  zk::DataTree tree;
  SessionMap sessions;
  if (load(std::span(data, size), tree, sessions)) checkResend(tree, sessions);
  asStream(zk::fuzz::asChars(data, size));
  asCompressedFile(std::span(data, size), zk::storage::SnapshotCompression::kGzip);
  asCompressedFile(std::span(data, size), zk::storage::SnapshotCompression::kSnappy);
  return 0;
}

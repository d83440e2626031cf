#include "storage/snapshot_compression.h"

#include <snappy.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>

#include "jute/writer.h"
#include "storage/storage_error.h"

namespace zk::storage {
namespace {

// snappy-java's stream (SnappyOutputStream): a 16-byte header (its magic, then version 1 and
// minimum compatible version 1, big-endian), then blocks of [big-endian int32 length][raw
// snappy data], each block compressing up to 32 KiB.
constexpr std::array<std::uint8_t, 8> kSnappyMagic{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
constexpr std::size_t kSnappyHeaderSize = 16;
constexpr std::size_t kSnappyBlockSize = 32 * 1024;
// A block claiming more than this is damage, not data: snappy-java's readers refuse far less.
constexpr std::size_t kMaxSnappyBlock = 64 * 1024 * 1024;
constexpr std::array<std::uint8_t, 2> kGzipMagic{0x1f, 0x8b};
constexpr int kGzipWindowBits = 15 + 16;  // zlib's way of asking for the gzip wrapper

bool equalsIgnoringCase(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

std::string snappyHeader() {
  jute::Writer out;
  out.writeRaw(
      std::string_view(reinterpret_cast<const char*>(kSnappyMagic.data()), kSnappyMagic.size()));
  out.writeInt(1);  // version
  out.writeInt(1);  // minimum compatible version
  return out.take();
}

std::string at(std::size_t offset) {
  return " at offset " + std::to_string(offset);
}

std::vector<std::uint8_t> gunzip(std::span<const std::uint8_t> stored) {
  z_stream z{};
  if (inflateInit2(&z, kGzipWindowBits) != Z_OK) throw StorageError("cannot start zlib inflate");
  std::vector<std::uint8_t> out;
  z.next_in = const_cast<Bytef*>(stored.data());  // zlib's API is not const-correct
  z.avail_in = static_cast<uInt>(stored.size());
  std::array<std::uint8_t, 256 * 1024> buffer;
  int rc = Z_OK;
  for (;;) {
    z.next_out = buffer.data();
    z.avail_out = static_cast<uInt>(buffer.size());
    rc = inflate(&z, Z_NO_FLUSH);
    out.insert(out.end(), buffer.data(), buffer.data() + (buffer.size() - z.avail_out));
    if (rc == Z_STREAM_END && z.avail_in > 0) {
      // Another gzip member follows, as Java's GZIPInputStream reads on into.
      rc = inflateReset(&z);
      if (rc == Z_OK) continue;
    }
    if (rc == Z_STREAM_END) break;
    if (rc != Z_OK || (z.avail_in == 0 && z.avail_out != 0)) {
      std::string why = rc == Z_OK || rc == Z_BUF_ERROR ? "gzip stream cut off"
                        : z.msg != nullptr              ? std::string("gzip: ") + z.msg
                                                        : "gzip stream is corrupt";
      std::size_t offset = stored.size() - z.avail_in;
      inflateEnd(&z);
      throw StorageError(why + at(offset));
    }
  }
  inflateEnd(&z);
  return out;
}

std::vector<std::uint8_t> unsnappy(std::span<const std::uint8_t> stored) {
  std::vector<std::uint8_t> out;
  std::size_t pos = 0;
  while (pos < stored.size()) {
    // A stream starts with the header, and a concatenated stream starts again with it.
    if (stored.size() - pos >= kSnappyMagic.size() &&
        std::equal(kSnappyMagic.begin(), kSnappyMagic.end(), stored.begin() + pos)) {
      if (stored.size() - pos < kSnappyHeaderSize)
        throw StorageError("snappy stream header cut off" + at(pos));
      pos += kSnappyHeaderSize;
      continue;
    }
    if (pos == 0) throw StorageError("not a snappy-java stream (no header)" + at(0));
    if (stored.size() - pos < 4) throw StorageError("snappy block length cut off" + at(pos));
    std::size_t length = jute::loadBigEndian32(stored.data() + pos);
    if (length > kMaxSnappyBlock || length > stored.size() - pos - 4)
      throw StorageError("snappy block of " + std::to_string(length) + " bytes runs past the end" +
                         at(pos));
    const char* block = reinterpret_cast<const char*>(stored.data() + pos + 4);
    std::size_t plain = 0;
    if (!snappy::GetUncompressedLength(block, length, &plain) || plain > kMaxSnappyBlock)
      throw StorageError("snappy block is corrupt" + at(pos));
    std::size_t start = out.size();
    out.resize(start + plain);
    if (!snappy::RawUncompress(block, length, reinterpret_cast<char*>(out.data() + start)))
      throw StorageError("snappy block is corrupt" + at(pos));
    pos += 4 + length;
  }
  if (pos == 0) throw StorageError("empty snappy stream");
  return out;
}

}  // namespace

std::optional<SnapshotCompression> compressionNamed(std::string_view method) {
  if (method.empty()) return SnapshotCompression::kNone;
  if (equalsIgnoringCase(method, "gz")) return SnapshotCompression::kGzip;
  if (equalsIgnoringCase(method, "snappy")) return SnapshotCompression::kSnappy;
  return std::nullopt;
}

std::string_view extensionOf(SnapshotCompression compression) {
  switch (compression) {
    case SnapshotCompression::kGzip:
      return ".gz";
    case SnapshotCompression::kSnappy:
      return ".snappy";
    case SnapshotCompression::kNone:
      break;
  }
  return "";
}

SnapshotCompression compressionOfFile(std::string_view fileName) {
  auto dot = fileName.rfind('.');
  if (dot == std::string_view::npos) return SnapshotCompression::kNone;
  return compressionNamed(fileName.substr(dot + 1)).value_or(SnapshotCompression::kNone);
}

SnapshotCompressor::SnapshotCompressor(SnapshotCompression compression)
    : compression_(compression) {
  if (compression_ != SnapshotCompression::kGzip) return;
  if (deflateInit2(&zlib_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, kGzipWindowBits, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK)
    throw StorageError("cannot start zlib deflate");
  zlibReady_ = true;
}

SnapshotCompressor::~SnapshotCompressor() {
  if (zlibReady_) deflateEnd(&zlib_);
}

std::string SnapshotCompressor::add(std::string_view chunk) {
  switch (compression_) {
    case SnapshotCompression::kGzip:
      return deflate(chunk, Z_NO_FLUSH);
    case SnapshotCompression::kSnappy:
      pending_.append(chunk);
      return snappyBlocks(false);
    case SnapshotCompression::kNone:
      break;
  }
  return std::string(chunk);
}

std::string SnapshotCompressor::finish() {
  switch (compression_) {
    case SnapshotCompression::kGzip:
      return deflate({}, Z_FINISH);
    case SnapshotCompression::kSnappy:
      return snappyBlocks(true);
    case SnapshotCompression::kNone:
      break;
  }
  return {};
}

std::string SnapshotCompressor::deflate(std::string_view in, int flush) {
  std::string out;
  zlib_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zlib_.avail_in = static_cast<uInt>(in.size());
  std::array<std::uint8_t, 64 * 1024> buffer;
  int rc = Z_OK;
  do {
    zlib_.next_out = buffer.data();
    zlib_.avail_out = static_cast<uInt>(buffer.size());
    rc = ::deflate(&zlib_, flush);
    if (rc == Z_STREAM_ERROR) throw StorageError("zlib deflate failed");
    out.append(reinterpret_cast<const char*>(buffer.data()), buffer.size() - zlib_.avail_out);
  } while (zlib_.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
  return out;
}

std::string SnapshotCompressor::snappyBlocks(bool all) {
  std::string out;
  if (!headerWritten_) {
    out = snappyHeader();
    headerWritten_ = true;
  }
  std::size_t pos = 0;
  while (pending_.size() - pos >= kSnappyBlockSize || (all && pos < pending_.size())) {
    std::size_t n = std::min(kSnappyBlockSize, pending_.size() - pos);
    std::string block;
    snappy::Compress(pending_.data() + pos, n, &block);
    jute::Writer length;
    length.writeInt(static_cast<std::int32_t>(block.size()));
    out += length.take();
    out += block;
    pos += n;
  }
  pending_.erase(0, pos);
  return out;
}

std::vector<std::uint8_t> decompressSnapshot(std::span<const std::uint8_t> stored,
                                             SnapshotCompression compression) {
  switch (compression) {
    case SnapshotCompression::kGzip:
      return gunzip(stored);
    case SnapshotCompression::kSnappy:
      return unsnappy(stored);
    case SnapshotCompression::kNone:
      break;
  }
  return {stored.begin(), stored.end()};
}

bool hasCompressionMagic(std::span<const std::uint8_t> head, SnapshotCompression compression) {
  auto startsWith = [&](auto magic) {
    return head.size() >= magic.size() && std::equal(magic.begin(), magic.end(), head.begin());
  };
  switch (compression) {
    case SnapshotCompression::kGzip:
      return startsWith(kGzipMagic);
    case SnapshotCompression::kSnappy:
      return startsWith(kSnappyMagic);
    case SnapshotCompression::kNone:
      break;
  }
  return true;
}

}  // namespace zk::storage

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

SnapshotDecompressor::SnapshotDecompressor(std::span<const std::uint8_t> stored,
                                           SnapshotCompression compression)
    : stored_(stored), compression_(compression) {
  if (compression_ != SnapshotCompression::kGzip) return;
  if (inflateInit2(&zlib_, kGzipWindowBits) != Z_OK)
    throw StorageError("cannot start zlib inflate");
  zlibReady_ = true;
}

SnapshotDecompressor::~SnapshotDecompressor() {
  if (zlibReady_) inflateEnd(&zlib_);
}

std::size_t SnapshotDecompressor::read(std::span<std::uint8_t> out) {
  switch (compression_) {
    case SnapshotCompression::kGzip:
      return inflateInto(out);
    case SnapshotCompression::kSnappy:
      return unsnappyInto(out);
    case SnapshotCompression::kNone:
      break;
  }
  std::size_t n = std::min(out.size(), stored_.size() - pos_);
  std::copy_n(stored_.begin() + static_cast<std::ptrdiff_t>(pos_), n, out.begin());
  pos_ += n;
  return n;
}

std::size_t SnapshotDecompressor::inflateInto(std::span<std::uint8_t> out) {
  // zlib counts in 32 bits: the stored bytes go in a GiB at a time; pos_ is how many went in.
  constexpr std::size_t kMaxIn = std::size_t{1} << 30;
  zlib_.next_out = out.data();
  zlib_.avail_out = static_cast<uInt>(out.size());
  while (!ended_ && zlib_.avail_out > 0) {
    if (zlib_.avail_in == 0 && pos_ < stored_.size()) {
      std::size_t n = std::min(kMaxIn, stored_.size() - pos_);
      zlib_.next_in = const_cast<Bytef*>(stored_.data() + pos_);  // zlib is not const-correct
      zlib_.avail_in = static_cast<uInt>(n);
      pos_ += n;
    }
    int rc = inflate(&zlib_, Z_NO_FLUSH);
    const std::size_t consumed = pos_ - zlib_.avail_in;
    if (rc == Z_STREAM_END) {
      // Another gzip member may follow, as Java's GZIPInputStream reads on into.
      if (consumed == stored_.size()) {
        ended_ = true;
      } else if (inflateReset(&zlib_) != Z_OK) {
        throw StorageError("gzip stream is corrupt" + at(consumed));
      }
      continue;
    }
    if (rc != Z_OK || (consumed == stored_.size() && zlib_.avail_out != 0)) {
      std::string why = rc == Z_OK || rc == Z_BUF_ERROR ? "gzip stream cut off"
                        : zlib_.msg != nullptr          ? std::string("gzip: ") + zlib_.msg
                                                        : "gzip stream is corrupt";
      throw StorageError(why + at(consumed));
    }
  }
  return out.size() - zlib_.avail_out;
}

std::size_t SnapshotDecompressor::unsnappyInto(std::span<std::uint8_t> out) {
  std::size_t filled = 0;
  while (filled < out.size()) {
    if (blockPos_ == block_.size() && !nextSnappyBlock()) break;
    std::size_t n = std::min(out.size() - filled, block_.size() - blockPos_);
    std::copy_n(block_.begin() + static_cast<std::ptrdiff_t>(blockPos_), n,
                out.begin() + static_cast<std::ptrdiff_t>(filled));
    blockPos_ += n;
    filled += n;
  }
  return filled;
}

bool SnapshotDecompressor::nextSnappyBlock() {
  while (pos_ < stored_.size()) {
    auto rest = stored_.subspan(pos_);
    // A stream starts with the header, and a concatenated stream starts again with it.
    if (rest.size() >= kSnappyMagic.size() &&
        std::equal(kSnappyMagic.begin(), kSnappyMagic.end(), rest.begin())) {
      if (rest.size() < kSnappyHeaderSize)
        throw StorageError("snappy stream header cut off" + at(pos_));
      pos_ += kSnappyHeaderSize;
      continue;
    }
    if (pos_ == 0) throw StorageError("not a snappy-java stream (no header)" + at(0));
    if (rest.size() < 4) throw StorageError("snappy block length cut off" + at(pos_));
    std::size_t length = jute::loadBigEndian32(rest.data());
    if (length > kMaxSnappyBlock || length > rest.size() - 4)
      throw StorageError("snappy block of " + std::to_string(length) + " bytes runs past the end" +
                         at(pos_));
    const char* block = reinterpret_cast<const char*>(rest.data() + 4);
    std::size_t plain = 0;
    if (!snappy::GetUncompressedLength(block, length, &plain) || plain > kMaxSnappyBlock)
      throw StorageError("snappy block is corrupt" + at(pos_));
    block_.resize(plain);
    if (!snappy::RawUncompress(block, length, reinterpret_cast<char*>(block_.data())))
      throw StorageError("snappy block is corrupt" + at(pos_));
    blockPos_ = 0;
    pos_ += 4 + length;
    return true;
  }
  if (pos_ == 0) throw StorageError("empty snappy stream");
  return false;
}

std::vector<std::uint8_t> decompressSnapshot(std::span<const std::uint8_t> stored,
                                             SnapshotCompression compression) {
  SnapshotDecompressor source(stored, compression);
  std::vector<std::uint8_t> out;
  std::array<std::uint8_t, 64 * 1024> buffer;
  while (std::size_t n = source.read(buffer))
    out.insert(out.end(), buffer.data(), buffer.data() + n);
  return out;
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

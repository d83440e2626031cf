#include "storage/snapshot_format.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <future>
#include <stdexcept>

#include "jute/reader.h"
#include "jute/writer.h"
#include "storage/file_util.h"
#include "storage/snapshot_compression.h"
#include "storage/txn_log.h"

namespace zk::storage {
namespace {

constexpr std::size_t kSealSize = 8 + 4 + 1;
constexpr std::size_t kDigestSize = 8 + 4 + 8;
constexpr std::size_t kLastZxidSize = 8;

std::uint32_t adlerOf(std::span<const std::uint8_t> bytes, std::uint32_t start = 1) {
  return static_cast<std::uint32_t>(adler32(start, bytes.data(), static_cast<uInt>(bytes.size())));
}

// From the first seal to the end: the seal, the digest section and its seal, the
// lastProcessedZxid section and its seal.
constexpr std::size_t kLongestTail = 3 * kSealSize + kDigestSize + kLastZxidSize;
// Summing a large whole snapshot's bytes was a sixth of a restart with a million znodes, so
// from this size on most of it is summed on another thread while the nodes are parsed.
constexpr std::size_t kParallelFrom = 4u << 20;

// The seal at the reader's position: the checksum of every byte before it (at `at` in the
// snapshot), then "/".
void checkSeal(jute::Reader& in, std::uint64_t at, std::uint32_t checksum) {
  std::int64_t stored = in.readLong("seal checksum");
  std::string_view slash = in.readStringView("seal path");
  if (stored != static_cast<std::int64_t>(checksum) || slash != "/") {
    throw StorageError("snapshot seal at offset " + std::to_string(at) +
                       " does not match (checksum mismatch or bad terminator)");
  }
}

void readTrailers(SnapshotBytes& bytes, SnapshotTrailer& t) {
  const std::uint64_t base = bytes.offset();
  jute::Reader in(bytes.rest(), base);
  auto seal = [&] {
    const std::uint64_t at = base + in.offset();
    checkSeal(in, at, bytes.checksumBefore(at));
  };
  // A 3.8 server writes the digest section, the lastProcessedZxid section, or both, in that
  // order; the sizes tell them apart.
  if (in.remaining() >= kDigestSize + kSealSize && in.remaining() != kLastZxidSize + kSealSize) {
    t.digestZxid = in.readLong("digest zxid");
    in.readInt("digest version");
    t.digest = in.readLong("digest");
    seal();
  }
  if (in.remaining() == kLastZxidSize + kSealSize) {
    t.lastProcessedZxid = in.readLong("lastProcessedZxid");
    seal();
  }
  if (!in.atEnd()) {
    throw StorageError("snapshot has " + std::to_string(in.remaining()) +
                       " unexpected bytes at offset " + std::to_string(base + in.offset()));
  }
}

void readHeader(SnapshotBytes& bytes) {
  bytes.record([](jute::Reader& in) {
    if (in.readInt("magic") != kSnapshotMagic)
      throw StorageError("not a snapshot (bad magic number at offset 0)");
    std::int32_t version = in.readInt("version");
    if (version != kFormatVersion) {
      throw StorageError("unsupported snapshot version " + std::to_string(version) +
                         " at offset 4");
    }
    in.readLong("dbid");
    return 0;
  });
}

void readSessionsAndAcls(SnapshotBytes& bytes, SessionMap& sessions, const SnapshotSink& sink) {
  std::int32_t count = bytes.record([](jute::Reader& in) { return in.readCount("sessions", 12); });
  for (std::int32_t i = 0; i < count; ++i) {
    bytes.record([&](jute::Reader& in) {
      std::int64_t id = in.readLong("session id");
      sessions[id] = in.readInt("session timeout");
      return 0;
    });
  }
  count = bytes.record([](jute::Reader& in) { return in.readCount("acl map", 12); });
  for (std::int32_t i = 0; i < count; ++i) {
    bytes.record([&](jute::Reader& in) {
      std::int64_t ref = in.readLong("acl ref");
      sink.acl(ref, jute::readVector<ACL>(in, "acl list"));
      return 0;
    });
  }
}

// One node to the sink; false at the "/" that ends the nodes.
bool readNode(SnapshotBytes& bytes, const SnapshotSink& sink) {
  const std::uint64_t at = bytes.offset();
  return bytes.record([&](jute::Reader& in) {
    std::string_view path = in.readStringView("path");
    if (path == "/") return false;
    std::optional<std::string_view> data = in.readNullableView("node data");
    std::int64_t aclRef = in.readLong("node acl");
    StatPersisted stat = StatPersisted::read(in);
    try {
      sink.node(path, data, aclRef, stat);
    } catch (const std::invalid_argument& e) {  // the tree refuses the node
      throw StorageError("node at offset " + std::to_string(at) + ": " + e.what());
    }
    return true;
  });
}

}  // namespace

void SnapshotEncoder::sum() {
  auto* p = reinterpret_cast<const std::uint8_t*>(buf_.data());
  adler_ = adlerOf({p + summed_, buf_.size() - summed_}, adler_);
  summed_ = buf_.size();
}

std::string SnapshotEncoder::take() {
  sum();
  total_ += buf_.size();
  summed_ = 0;
  return std::exchange(buf_, {});
}

void SnapshotEncoder::header(std::int64_t dbid) {
  jute::Writer w(buf_);
  w.writeInt(kSnapshotMagic);
  w.writeInt(kFormatVersion);
  w.writeLong(dbid);
}

void SnapshotEncoder::sessions(const SessionMap& sessions) {
  jute::Writer w(buf_);
  w.writeInt(static_cast<std::int32_t>(sessions.size()));
  for (const auto& [id, timeout] : sessions) {
    w.writeLong(id);
    w.writeInt(timeout);
  }
}

void SnapshotEncoder::acls(const std::vector<std::pair<std::int64_t, AclList>>& acls) {
  jute::Writer w(buf_);
  w.writeInt(static_cast<std::int32_t>(acls.size()));
  for (const auto& [ref, list] : acls) {
    w.writeLong(ref);
    jute::writeVector(w, list);
  }
}

void SnapshotEncoder::node(std::string_view path, std::optional<std::string_view> data,
                           std::int64_t aclRef, const StatPersisted& stat) {
  jute::Writer w(buf_);
  w.writeString(path);
  w.writeNullableBuffer(data);
  w.writeLong(aclRef);
  stat.write(w);
}

void SnapshotEncoder::endNodes() {
  jute::Writer w(buf_);
  w.writeString("/");
}

void SnapshotEncoder::seal() {
  sum();
  jute::Writer w(buf_);
  w.writeLong(adler_);
  w.writeString("/");
}

SnapshotBytes::SnapshotBytes(std::span<const std::uint8_t> whole)
    : whole_(whole), largest_(whole.size()) {
  if (whole.size() < kParallelFrom) return;
  headEnd_ = whole.size() - kLongestTail;
  head_ = std::async(std::launch::async, [head = whole.first(headEnd_)] { return adlerOf(head); });
}

SnapshotBytes::SnapshotBytes(SnapshotDecompressor& source, std::size_t window)
    : source_(&source), buffer_(std::max<std::size_t>(window, 1)), pull_(buffer_.size()) {
  largest_ = buffer_.size();
}

std::span<const std::uint8_t> SnapshotBytes::window() const {
  if (source_ == nullptr) return whole_;
  return {buffer_.data(), filled_};
}

std::uint32_t SnapshotBytes::checksumBefore(std::uint64_t offset) {
  if (head_.valid()) {
    std::uint32_t head = head_.get();  // joins even when the seal is unexpectedly early
    if (offset >= headEnd_) {
      adler_ = head;
      summed_ = headEnd_;
    }
  }
  adler_ = adlerOf(window().subspan(summed_ - origin_, offset - summed_), adler_);
  summed_ = offset;
  return adler_;
}

bool SnapshotBytes::pullMore() {
  if (source_ == nullptr) return false;
  // The records decoded leave the window, summed on their way out.
  if (offset() > summed_) checksumBefore(offset());
  const std::size_t kept = filled_ - pos_;
  std::copy(buffer_.begin() + static_cast<std::ptrdiff_t>(pos_),
            buffer_.begin() + static_cast<std::ptrdiff_t>(filled_), buffer_.begin());
  origin_ += pos_;
  pos_ = 0;
  filled_ = kept;
  // A record longer than the window doubles it, so it is decoded again only a few times.
  if (buffer_.size() - filled_ < pull_) buffer_.resize(filled_ + std::max(pull_, filled_));
  largest_ = std::max(largest_, buffer_.size());
  std::size_t got = source_->read(std::span(buffer_).subspan(filled_));
  filled_ += got;
  return got > 0;
}

std::span<const std::uint8_t> SnapshotBytes::rest() {
  while (pullMore()) {
  }
  return window().subspan(pos_);
}

SnapshotTrailer parseSnapshot(SnapshotBytes& bytes, SessionMap& sessions,
                              const SnapshotSink& sink) {
  try {
    readHeader(bytes);
    readSessionsAndAcls(bytes, sessions, sink);
    while (readNode(bytes, sink)) {
    }
    const std::uint64_t at = bytes.offset();
    const std::uint32_t checksum = bytes.checksumBefore(at);
    bytes.record([&](jute::Reader& in) {
      checkSeal(in, at, checksum);
      return 0;
    });
    SnapshotTrailer trailer;
    readTrailers(bytes, trailer);
    return trailer;
  } catch (const jute::DecodeError& e) {
    throw StorageError(std::string("truncated or malformed snapshot: ") + e.what());
  }
}

SnapshotTrailer parseSnapshot(std::span<const std::uint8_t> bytes, SessionMap& sessions,
                              const SnapshotSink& sink) {
  SnapshotBytes whole(bytes);
  return parseSnapshot(whole, sessions, sink);
}

bool looksLikeCompleteSnapshot(const std::filesystem::path& file) {
  std::error_code ec;
  auto size = std::filesystem::file_size(file, ec);
  if (ec || size < 10) return false;
  std::ifstream in(file, std::ios::binary);
  SnapshotCompression compression = compressionOfFile(file.filename().string());
  if (compression != SnapshotCompression::kNone) {
    std::array<std::uint8_t, 8> head{};
    in.read(reinterpret_cast<char*>(head.data()), head.size());
    return hasCompressionMagic(std::span(head.data(), static_cast<std::size_t>(in.gcount())),
                               compression);
  }
  in.seekg(static_cast<std::streamoff>(size - 5));
  char tail[5];
  if (!in.read(tail, 5)) return false;
  return tail[0] == 0 && tail[1] == 0 && tail[2] == 0 && tail[3] == 1 && tail[4] == '/';
}

std::optional<std::int64_t> snapshotZxidOfName(std::string_view fileName) {
  for (auto compression : {SnapshotCompression::kGzip, SnapshotCompression::kSnappy}) {
    std::string_view extension = extensionOf(compression);
    if (fileName.ends_with(extension))
      return zxidFromName(fileName.substr(0, fileName.size() - extension.size()), kSnapshotPrefix);
  }
  return zxidFromName(fileName, kSnapshotPrefix);
}

std::vector<ZxidFile> listSnapshots(const std::filesystem::path& versionDir) {
  std::vector<ZxidFile> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(versionDir, ec)) {
    auto zxid = snapshotZxidOfName(entry.path().filename().string());
    if (zxid && entry.is_regular_file()) files.push_back({*zxid, entry.path()});
  }
  std::sort(files.begin(), files.end(), [](const ZxidFile& a, const ZxidFile& b) {
    return a.zxid < b.zxid || (a.zxid == b.zxid && a.path < b.path);
  });
  return files;
}

}  // namespace zk::storage

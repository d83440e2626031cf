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

// Checks the seals at the reader's position: the checksum of every byte before it, then "/".
// A snapshot has up to three seals, each over everything before it, so the checksum carries on
// from the previous seal instead of starting over (the file can be hundreds of MiB). Summing
// those bytes was a sixth of a restart with a million znodes, so for a large file it runs on
// another thread while the nodes are parsed, up to a point the first seal cannot lie before.
class SealChecker {
 public:
  explicit SealChecker(std::span<const std::uint8_t> bytes) : bytes_(bytes) {
    if (bytes.size() < kParallelFrom) return;
    headEnd_ = bytes.size() - kLongestTail;
    head_ =
        std::async(std::launch::async, [head = bytes.first(headEnd_)] { return adlerOf(head); });
  }
  void check(jute::Reader& in) {
    std::size_t at = in.offset();
    if (head_.valid()) {
      std::uint32_t head = head_.get();  // joins even when the seal is unexpectedly early
      if (at >= headEnd_) {
        adler_ = head;
        summed_ = headEnd_;
      }
    }
    adler_ = adlerOf(bytes_.subspan(summed_, at - summed_), adler_);
    summed_ = at;
    std::int64_t stored = in.readLong("seal checksum");
    std::string slash = in.readString("seal path");
    if (stored != static_cast<std::int64_t>(adler_) || slash != "/") {
      throw StorageError("snapshot seal at offset " + std::to_string(at) +
                         " does not match (checksum mismatch or bad terminator)");
    }
  }

 private:
  // From the first seal to the end: the seal, the digest section and its seal, the
  // lastProcessedZxid section and its seal.
  static constexpr std::size_t kLongestTail = 3 * kSealSize + kDigestSize + kLastZxidSize;
  static constexpr std::size_t kParallelFrom = 4u << 20;

  std::span<const std::uint8_t> bytes_;
  std::size_t summed_ = 0;
  std::uint32_t adler_ = 1;
  std::size_t headEnd_ = 0;
  std::future<std::uint32_t> head_;  // adler of bytes_[0, headEnd_); its destructor joins
};

void readTrailers(jute::Reader& in, SealChecker& seals, SnapshotTrailer& t) {
  // A 3.8 server writes the digest section, the lastProcessedZxid section, or both, in that
  // order; the sizes tell them apart.
  if (in.remaining() >= kDigestSize + kSealSize && in.remaining() != kLastZxidSize + kSealSize) {
    t.digestZxid = in.readLong("digest zxid");
    in.readInt("digest version");
    t.digest = in.readLong("digest");
    seals.check(in);
  }
  if (in.remaining() == kLastZxidSize + kSealSize) {
    t.lastProcessedZxid = in.readLong("lastProcessedZxid");
    seals.check(in);
  }
  if (!in.atEnd()) {
    throw StorageError("snapshot has " + std::to_string(in.remaining()) +
                       " unexpected bytes at offset " + std::to_string(in.offset()));
  }
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

SnapshotTrailer parseSnapshot(std::span<const std::uint8_t> bytes, SessionMap& sessions,
                              const SnapshotSink& sink) {
  jute::Reader in(bytes);
  SealChecker seals(bytes);
  try {
    if (in.readInt("magic") != kSnapshotMagic)
      throw StorageError("not a snapshot (bad magic number at offset 0)");
    std::int32_t version = in.readInt("version");
    if (version != kFormatVersion) {
      throw StorageError("unsupported snapshot version " + std::to_string(version) +
                         " at offset 4");
    }
    in.readLong("dbid");
    std::int32_t count = in.readCount("sessions", 12);
    for (std::int32_t i = 0; i < count; ++i) {
      std::int64_t id = in.readLong("session id");
      sessions[id] = in.readInt("session timeout");
    }
    count = in.readCount("acl map", 12);
    for (std::int32_t i = 0; i < count; ++i) {
      std::int64_t ref = in.readLong("acl ref");
      sink.acl(ref, jute::readVector<ACL>(in, "acl list"));
    }
    for (;;) {
      const std::size_t at = in.offset();
      std::string_view path = in.readStringView("path");
      if (path == "/") break;
      std::optional<std::string_view> data = in.readNullableView("node data");
      std::int64_t aclRef = in.readLong("node acl");
      StatPersisted stat = StatPersisted::read(in);
      try {
        sink.node(path, data, aclRef, stat);
      } catch (const std::invalid_argument& e) {  // the tree refuses the node
        throw StorageError("node at offset " + std::to_string(at) + ": " + e.what());
      }
    }
    seals.check(in);
    SnapshotTrailer trailer;
    readTrailers(in, seals, trailer);
    return trailer;
  } catch (const jute::DecodeError& e) {
    throw StorageError(std::string("truncated or malformed snapshot: ") + e.what());
  }
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

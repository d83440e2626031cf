#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <limits>

#include "jute/reader.h"
#include "storage/txn_log.h"

namespace zk::storage {
namespace {

constexpr std::size_t kFileHeaderSize = 16;
constexpr std::size_t kEntryHeaderSize = 12;  // checksum + length
constexpr std::int64_t kHeadersOnly = std::numeric_limits<std::int64_t>::max();

struct BadRecord {
  std::uint64_t offset;
  std::uint64_t extent;  // where the bad record ends (as far as it can be told)
  std::string reason;
  bool mayBeTorn = true;  // false when the bytes are intact but meaningless
};

std::int64_t adler(std::span<const std::uint8_t> bytes) {
  return static_cast<std::int64_t>(
      adler32(adler32(0, nullptr, 0), bytes.data(), static_cast<uInt>(bytes.size())));
}

using EntryFn = std::function<void(const Txn&, std::uint64_t offset)>;

// Decodes one checksummed payload: the whole txn, or only its header when the txn is at or
// below `bodiesAfter` (its body then stays monostate).
Txn decodeEntry(std::span<const std::uint8_t> payload, std::int64_t bodiesAfter) {
  std::string_view bytes(reinterpret_cast<const char*>(payload.data()), payload.size());
  jute::Reader in(bytes);
  Txn txn;
  txn.header = TxnHeader::read(in);
  if (txn.header.zxid > bodiesAfter) txn.body = readTxnBody(in, txn.header.type);
  return txn;
}

// Validates the entries after the file header; returns the first bad one, or nullopt when the
// data ends cleanly (EOF or a zero length followed only by zeros). Every record's checksum is
// verified, but only the bodies of txns above `bodiesAfter` are decoded: on recovery the
// records a snapshot already covers are most of the newest file, and decoding them (strings,
// ACL vectors) was a fifth of a restart with a million znodes.
std::optional<BadRecord> scanEntries(const MappedFile& file, std::int64_t bodiesAfter,
                                     const EntryFn& fn) {
  const auto bytes = file.bytes();
  std::uint64_t off = kFileHeaderSize;
  const std::uint64_t size = bytes.size();
  while (off < size) {
    auto rest = bytes.subspan(off);
    if (rest.size() < kEntryHeaderSize) {
      if (file.zeroFrom(off)) return std::nullopt;
      return BadRecord{off, size, "record header cut off"};
    }
    jute::Reader in(rest.first(kEntryHeaderSize));
    std::int64_t crc = in.readLong("crc");
    std::int32_t len = in.readInt("length");
    if (len == 0) {
      if (file.zeroFrom(off)) return std::nullopt;
      return BadRecord{off, off + kEntryHeaderSize, "zero length followed by data"};
    }
    if (len < 0) return BadRecord{off, off + kEntryHeaderSize, "negative length"};
    std::uint64_t need = kEntryHeaderSize + static_cast<std::uint64_t>(len) + 1;
    if (need > rest.size()) {
      return BadRecord{off, size,
                       "record cut off (length " + std::to_string(len) + ", " +
                           std::to_string(rest.size()) + " bytes left)"};
    }
    auto payload = rest.subspan(kEntryHeaderSize, static_cast<std::size_t>(len));
    if (rest[need - 1] != kEndOfRecord) {
      return BadRecord{off, off + need, "missing end-of-record byte"};
    }
    // A record written to its end-of-record byte is whole: a checksum that fails then is
    // corruption, not a torn write, even at the tail (ZooKeeper refuses it too).
    if (adler(payload) != crc) return BadRecord{off, off + need, "checksum mismatch", false};
    Txn txn;
    try {
      txn = decodeEntry(payload, bodiesAfter);
    } catch (const jute::DecodeError& e) {
      return BadRecord{off, off + need, std::string("undecodable txn: ") + e.what(), false};
    }
    fn(txn, off);
    off += need;
  }
  return std::nullopt;
}

std::optional<BadRecord> checkHeader(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < kFileHeaderSize) return BadRecord{0, bytes.size(), "file header cut off"};
  jute::Reader in(bytes.first(kFileHeaderSize));
  std::int32_t magic = in.readInt("magic");
  std::int32_t version = in.readInt("version");
  if (magic != kTxnLogMagic) return BadRecord{0, kFileHeaderSize, "bad magic number"};
  if (version != kFormatVersion) {
    return BadRecord{0, kFileHeaderSize, "unsupported version " + std::to_string(version), false};
  }
  return std::nullopt;
}

std::string describe(const std::filesystem::path& file, const BadRecord& bad) {
  return file.string() + " at offset " + std::to_string(bad.offset) + ": " + bad.reason;
}

// Drops a torn tail for good, so the file reads clean once it is no longer the newest.
void cutTail(const std::filesystem::path& file, std::uint64_t offset) {
  if (offset == 0) {
    std::error_code ec;
    if (!std::filesystem::remove(file, ec) || ec) throwErrno("cannot remove", file);
    fsyncDir(file.parent_path());
    return;
  }
  if (::truncate(file.c_str(), static_cast<off_t>(offset)) != 0)
    throwErrno("cannot truncate", file);
  Fd fd = Fd::open(file, O_RDWR);
  fsyncFile(fd.get(), false, file);
}

// Every entry of one file; throws on a bad record.
void scanFile(const std::filesystem::path& path, std::int64_t bodiesAfter, const EntryFn& fn) {
  MappedFile file(path);
  auto bytes = file.bytes();
  std::optional<BadRecord> bad = checkHeader(bytes);
  if (!bad) bad = scanEntries(file, bodiesAfter, fn);
  if (bad) throw StorageError("bad transaction log " + describe(path, *bad));
}

}  // namespace

std::vector<ZxidFile> logFilesFrom(const std::filesystem::path& versionDir, std::int64_t zxid) {
  std::vector<ZxidFile> all = listZxidFiles(versionDir, kLogPrefix);
  std::size_t first = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (all[i].zxid <= zxid) first = i;
  }
  return {all.begin() + static_cast<std::ptrdiff_t>(first), all.end()};
}

LogReadResult readTxnLog(const std::filesystem::path& versionDir, std::int64_t afterZxid,
                         const std::function<void(const Txn&)>& fn, const LogReadOptions& opts) {
  LogReadResult result;
  std::vector<ZxidFile> files = logFilesFrom(versionDir, afterZxid);
  for (std::size_t i = 0; i < files.size(); ++i) {
    const auto& path = files[i].path;
    const bool newest = i + 1 == files.size();
    std::optional<BadRecord> bad;
    {
      MappedFile file(path);
      auto bytes = file.bytes();
      bad = checkHeader(bytes);
      if (!bad) {
        bad = scanEntries(file, afterZxid, [&](const Txn& txn, std::uint64_t offset) {
          std::int64_t zxid = txn.header.zxid;
          if (zxid <= result.lastZxid) {
            opts.log(path.string() + " at offset " + std::to_string(offset) + ": zxid " +
                     std::to_string(zxid) + " is not above the previous " +
                     std::to_string(result.lastZxid));
          }
          result.lastZxid = std::max(result.lastZxid, zxid);
          if (zxid > afterZxid) {
            fn(txn);
            result.delivered++;
          }
        });
      }
      if (!bad) continue;
      bool torn = bad->mayBeTorn && file.zeroFrom(bad->extent);
      // An older file's torn end is harmless when the next file, or the snapshot, already
      // follows on from its last whole record (ZooKeeper goes on to the next file in any case;
      // a hole in the history is refused here instead).
      if (torn && !newest && files[i + 1].zxid - 1 > std::max(afterZxid, result.lastZxid)) {
        throw StorageError("corrupt transaction log " + describe(path, *bad) + ": the txns up to " +
                           std::to_string(files[i + 1].zxid - 1) +
                           " are missing; refusing to start rather than lose committed txns");
      }
      if (!torn) {
        throw StorageError("corrupt transaction log " + describe(path, *bad) +
                           "; refusing to start rather than lose committed txns");
      }
    }
    result.tornTail = describe(path, *bad);
    opts.log("dropping torn write at the end of " + *result.tornTail +
             (opts.repairTornTail ? " (truncated)" : " (left on disk)"));
    if (opts.repairTornTail) cutTail(path, bad->offset < kFileHeaderSize ? 0 : bad->offset);
  }
  return result;
}

std::uint64_t truncateTxnLog(const std::filesystem::path& versionDir, std::int64_t zxid,
                             const LogFn& log) {
  std::uint64_t removed = 0;
  for (const auto& file : listZxidFiles(versionDir, kLogPrefix)) {
    if (file.zxid > zxid) {
      scanFile(file.path, kHeadersOnly, [&](const Txn&, std::uint64_t) { ++removed; });
      cutTail(file.path, 0);
      log("TRUNC: removed " + file.path.string());
      continue;
    }
    std::optional<std::uint64_t> cutAt;
    scanFile(file.path, kHeadersOnly, [&](const Txn& txn, std::uint64_t offset) {
      if (txn.header.zxid <= zxid) return;
      if (!cutAt) cutAt = offset;
      ++removed;
    });
    if (cutAt) {
      cutTail(file.path, *cutAt);
      log("TRUNC: cut " + file.path.string() + " at offset " + std::to_string(*cutAt));
    }
  }
  return removed;
}

void readLogFile(const std::filesystem::path& path,
                 const std::function<void(const Txn&, std::uint64_t offset)>& fn) {
  scanFile(path, std::numeric_limits<std::int64_t>::min(), fn);
}

}  // namespace zk::storage

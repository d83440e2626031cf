#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>

#include "jute/reader.h"
#include "storage/txn_log.h"
#include "storage_test_util.h"

namespace zk::storage {
namespace {

using testing::createTxn;
using testing::readAll;
using testing::TempDir;
using testing::writeAll;

constexpr std::int64_t kPrealloc = 64 * 1024;

// Collects the durable callbacks and lets a test wait for a zxid without sleeping.
struct DurableLog {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::int64_t> zxids;
  std::string fatal;

  TxnLogWriter::DurableFn onDurable() {
    return [this](std::int64_t z) {
      std::lock_guard lock(mu);
      zxids.push_back(z);
      cv.notify_all();
    };
  }
  TxnLogWriter::FatalFn onFatal() {
    return [this](std::string why) {
      std::lock_guard lock(mu);
      fatal = std::move(why);
      cv.notify_all();
    };
  }
  bool waitFor(std::int64_t zxid) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(10),
                       [&] { return !zxids.empty() && zxids.back() >= zxid; });
  }
  bool waitFatal() {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(10), [&] { return !fatal.empty(); });
  }
};

TxnLogOptions options(const std::filesystem::path& dir) {
  TxnLogOptions o;
  o.dataLogDir = dir;
  o.preAllocSize = kPrealloc;
  o.log = [](std::string_view) {};
  return o;
}

LogReadOptions quiet(bool repair = true) {
  LogReadOptions o;
  o.repairTornTail = repair;
  o.log = [](std::string_view) {};
  return o;
}

std::vector<Txn> readFrom(const std::filesystem::path& versionDir, std::int64_t after,
                          LogReadResult* result = nullptr, bool repair = true) {
  std::vector<Txn> out;
  LogReadResult r = readTxnLog(
      versionDir, after, [&](const Txn& t) { out.push_back(t); }, quiet(repair));
  if (result != nullptr) *result = r;
  return out;
}

void writeTxns(const std::filesystem::path& dir, std::int64_t from, std::int64_t to,
               std::int64_t prealloc = kPrealloc) {
  DurableLog durable;
  auto o = options(dir);
  o.preAllocSize = prealloc;
  TxnLogWriter w(o, durable.onDurable(), durable.onFatal());
  for (std::int64_t z = from; z <= to; ++z)
    ASSERT_TRUE(w.append(createTxn(z, "/n" + std::to_string(z))));
  w.stop();
  ASSERT_EQ(durable.zxids.back(), to);
}

TEST(TxnLog, RoundTripKeepsEveryTxnInOrder) {
  TempDir dir;
  writeTxns(dir.path(), 1, 100);
  auto v2 = dir.path() / "version-2";
  std::vector<Txn> all = readFrom(v2, -1);
  ASSERT_EQ(all.size(), 100u);
  for (std::int64_t z = 1; z <= 100; ++z)
    EXPECT_EQ(all[z - 1], createTxn(z, "/n" + std::to_string(z)));
  std::vector<Txn> tail = readFrom(v2, 60);
  ASSERT_EQ(tail.size(), 40u);
  EXPECT_EQ(tail.front().header.zxid, 61);
}

TEST(TxnLog, FileIsZooKeeperFormat) {
  TempDir dir;
  writeTxns(dir.path(), 7, 8);
  auto file = dir.path() / "version-2" / "log.7";
  std::string bytes = readAll(file);
  ASSERT_EQ(bytes.size(), static_cast<std::size_t>(kPrealloc));
  jute::Reader in(std::string_view{bytes});
  EXPECT_EQ(in.readInt("magic"), 0x5a4b4c47);
  EXPECT_EQ(in.readInt("version"), 2);
  EXPECT_EQ(in.readLong("dbid"), 0);
  std::string txn = encodeTxn(createTxn(7, "/n7"));
  auto expected = adler32(adler32(0, nullptr, 0), reinterpret_cast<const Bytef*>(txn.data()),
                          static_cast<uInt>(txn.size()));
  EXPECT_EQ(in.readLong("crc"), static_cast<std::int64_t>(expected));
  EXPECT_EQ(in.readBuffer("txn"), txn);
  EXPECT_EQ(in.readByte("eor"), 'B');
  in.skip(13 + encodeTxn(createTxn(8, "/n8")).size(), "second entry");
  EXPECT_EQ(in.readInt("end"), 0);
}

TEST(TxnLog, PreallocationGrowsInBlocks) {
  TempDir dir;
  DurableLog durable;
  TxnLogWriter w(options(dir.path()), durable.onDurable(), durable.onFatal());
  w.append(createTxn(1, "/a"));
  ASSERT_TRUE(durable.waitFor(1));
  auto file = dir.path() / "version-2" / "log.1";
  EXPECT_EQ(std::filesystem::file_size(file), static_cast<std::uintmax_t>(kPrealloc));
  std::string big(40000, 'x');
  w.append(createTxn(2, "/b", big));
  w.append(createTxn(3, "/c", big));
  ASSERT_TRUE(durable.waitFor(3));
  EXPECT_EQ(std::filesystem::file_size(file), static_cast<std::uintmax_t>(2 * kPrealloc));
  w.stop();
  EXPECT_EQ(readFrom(dir.path() / "version-2", 0).size(), 3u);
}

TEST(TxnLog, DurableCallbacksAreOrderedAndFollowTheDisk) {
  TempDir dir;
  auto v2 = dir.path() / "version-2";
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::int64_t> seen;
  std::vector<std::int64_t> onDisk;  // what a reader found when each callback ran
  TxnLogWriter w(
      options(dir.path()),
      [&](std::int64_t z) {
        LogReadResult r = readTxnLog(
            v2, -1, [](const Txn&) {}, quiet(false));
        std::lock_guard lock(mu);
        seen.push_back(z);
        onDisk.push_back(r.lastZxid);
        cv.notify_all();
      },
      [](std::string) {});
  constexpr std::int64_t kCount = 500;
  for (std::int64_t z = 1; z <= kCount; ++z) w.append(createTxn(z, "/n"));
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(20),
                          [&] { return !seen.empty() && seen.back() == kCount; }));
  for (std::size_t i = 0; i < seen.size(); ++i) {
    if (i > 0) {
      EXPECT_GT(seen[i], seen[i - 1]);
    }
    EXPECT_GE(onDisk[i], seen[i]);
  }
  lock.unlock();
  w.stop();
  EXPECT_GE(w.fsyncStats().count, 1u);
  EXPECT_LE(w.fsyncStats().count, static_cast<std::uint64_t>(kCount));
}

TEST(TxnLog, RollStartsAFileNamedByItsFirstZxid) {
  TempDir dir;
  DurableLog durable;
  {
    TxnLogWriter w(options(dir.path()), durable.onDurable(), durable.onFatal());
    for (std::int64_t z = 1; z <= 5; ++z) w.append(createTxn(z, "/a"));
    w.rollLog();
    for (std::int64_t z = 0x1a; z <= 0x1f; ++z) w.append(createTxn(z, "/b"));
  }
  auto v2 = dir.path() / "version-2";
  EXPECT_TRUE(std::filesystem::exists(v2 / "log.1"));
  EXPECT_TRUE(std::filesystem::exists(v2 / "log.1a"));
  auto files = logFilesFrom(v2, 0x1b);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].zxid, 0x1a);
  EXPECT_EQ(logFilesFrom(v2, 4).size(), 2u);
  EXPECT_EQ(readFrom(v2, 3).size(), 2u + 6u);
}

// Every possible crash point inside the last record: whether the file ends there (no
// preallocation) or zeros follow (preallocated), recovery keeps the earlier txns, cuts the
// file at the start of the torn record, and the next read is clean.
TEST(TxnLog, TornTailAtEveryOffsetIsTruncated) {
  for (bool prealloc : {false, true}) {
    TempDir dir;
    writeTxns(dir.path(), 1, 5, prealloc ? kPrealloc : 0);
    auto file = dir.path() / "version-2" / "log.1";
    std::string original = readAll(file);
    std::size_t lastSize = 13 + encodeTxn(createTxn(5, "/n5")).size();
    std::size_t end = 16;
    for (std::int64_t z = 1; z <= 5; ++z)
      end += 13 + encodeTxn(createTxn(z, "/n" + std::to_string(z))).size();
    std::size_t lastStart = end - lastSize;
    for (std::size_t cut = lastStart; cut < end; ++cut) {
      std::string damaged = original.substr(0, cut);
      if (prealloc) damaged.resize(original.size(), '\0');
      writeAll(file, damaged);
      LogReadResult r;
      std::vector<Txn> txns = readFrom(dir.path() / "version-2", 0, &r);
      ASSERT_EQ(txns.size(), 4u) << "cut at " << cut;
      EXPECT_EQ(r.lastZxid, 4);
      // The checksum's high four bytes are zero: a cut there leaves nothing to tell apart.
      std::string kept = original.substr(lastStart, cut - lastStart);
      if (kept.find_first_not_of('\0') != std::string::npos) {
        ASSERT_TRUE(r.tornTail.has_value()) << "cut at " << cut;
        EXPECT_NE(r.tornTail->find("log.1 at offset " + std::to_string(lastStart)),
                  std::string::npos)
            << *r.tornTail;
        EXPECT_EQ(std::filesystem::file_size(file), lastStart);
      }
      LogReadResult again;
      EXPECT_EQ(readFrom(dir.path() / "version-2", 0, &again).size(), 4u);
      EXPECT_FALSE(again.tornTail.has_value()) << "cut at " << cut;
    }
  }
}

TEST(TxnLog, TornTailLeftInPlaceWhenNotRepairing) {
  TempDir dir;
  writeTxns(dir.path(), 1, 3);
  auto file = dir.path() / "version-2" / "log.1";
  std::string bytes = readAll(file);
  std::size_t end = 16;
  for (std::int64_t z = 1; z <= 3; ++z)
    end += 13 + encodeTxn(createTxn(z, "/n" + std::to_string(z))).size();
  bytes[end - 1] = 0;  // the last end-of-record byte never reached the disk
  writeAll(file, bytes);
  LogReadResult r;
  EXPECT_EQ(readFrom(dir.path() / "version-2", 0, &r, false).size(), 2u);
  EXPECT_TRUE(r.tornTail.has_value());
  EXPECT_EQ(readAll(file), bytes);
}

TEST(TxnLog, CorruptionInTheMiddleIsRefusedWithFileAndOffset) {
  TempDir dir;
  writeTxns(dir.path(), 1, 5);
  auto file = dir.path() / "version-2" / "log.1";
  std::string bytes = readAll(file);
  std::size_t second = 16 + 13 + encodeTxn(createTxn(1, "/n1")).size();
  bytes[second + 20] ^= 0x40;  // inside the second txn's bytes
  writeAll(file, bytes);
  try {
    readFrom(dir.path() / "version-2", 0);
    FAIL() << "corruption accepted";
  } catch (const StorageError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find(file.string()), std::string::npos) << msg;
    EXPECT_NE(msg.find("offset " + std::to_string(second)), std::string::npos) << msg;
    EXPECT_NE(msg.find("checksum"), std::string::npos) << msg;
  }
  EXPECT_EQ(readAll(file), bytes);  // nothing was cut
  // Recovery decodes only the txns past its snapshot, but it still checks the checksums of
  // the records the snapshot covers: a damaged one means the file cannot be trusted.
  EXPECT_THROW(readFrom(dir.path() / "version-2", 3), StorageError);
}

// Where the data of a file written by writeTxns(dir, 1, last) ends.
std::size_t endOfTxns(std::int64_t last) {
  std::size_t end = 16;
  for (std::int64_t z = 1; z <= last; ++z)
    end += 13 + encodeTxn(createTxn(z, "/n" + std::to_string(z))).size();
  return end;
}

// The last record is whole (its end-of-record byte is there) but its checksum fails: that is
// corruption, not a torn write, so it is refused and left on disk, as ZooKeeper refuses it.
TEST(TxnLog, WholeLastRecordWithABadChecksumIsRefused) {
  for (bool prealloc : {false, true}) {
    TempDir dir;
    writeTxns(dir.path(), 1, 3, prealloc ? kPrealloc : 0);
    auto file = dir.path() / "version-2" / "log.1";
    std::string bytes = readAll(file);
    const std::size_t end = endOfTxns(3);
    const std::size_t lastStart = endOfTxns(2);
    bytes[end - 2] ^= 0x01;  // the last payload byte
    writeAll(file, bytes);
    try {
      readFrom(dir.path() / "version-2", 0);
      FAIL() << "a corrupt whole record was cut as a torn write";
    } catch (const StorageError& e) {
      std::string msg = e.what();
      EXPECT_NE(msg.find("log.1 at offset " + std::to_string(lastStart) + ": checksum"),
                std::string::npos)
          << msg;
    }
    EXPECT_EQ(readAll(file), bytes);
  }
}

// An older file's torn end is a hole in the history unless what follows starts right after its
// last whole record: the snapshot (reading after zxid 3) or the next file. ZooKeeper goes on
// with the next file in every case.
TEST(TxnLog, BadTailOfAnOlderFileIsAHoleUnlessWhatFollowsGoesOnFromIt) {
  TempDir dir;
  writeTxns(dir.path(), 1, 3);
  writeTxns(dir.path(), 4, 6);
  auto file = dir.path() / "version-2" / "log.1";
  std::string bytes = readAll(file);
  const std::size_t end = endOfTxns(3);
  bytes[end - 1] = 0;  // txn 3 torn
  writeAll(file, bytes);
  EXPECT_THROW(readFrom(dir.path() / "version-2", 0), StorageError);

  LogReadResult r;  // a snapshot at 3 holds txn 3
  EXPECT_EQ(readFrom(dir.path() / "version-2", 3, &r, false).size(), 3u);
  ASSERT_TRUE(r.tornTail.has_value());
  EXPECT_NE(r.tornTail->find("log.1 at offset "), std::string::npos) << *r.tornTail;

  // A half-written record after txn 3, and log.4 starts at 4: every txn is there.
  std::string frame = frameLogEntry(encodeTxn(createTxn(4, "/n4")));
  writeAll(file, bytes.substr(0, end - 1) + "B" + frame.substr(0, frame.size() / 2));
  EXPECT_EQ(readFrom(dir.path() / "version-2", 0, &r).size(), 6u);
  EXPECT_TRUE(r.tornTail.has_value());
  EXPECT_EQ(std::filesystem::file_size(file), end);  // cut back to its last whole record
}

// What the zero-tail check guards: bytes anywhere after the end of the data (a record header
// zeroed in place, or garbage) are refused, however deep in the preallocated tail they are.
TEST(TxnLog, DataDeepInThePreallocatedTailIsRefused) {
  TempDir dir;
  writeTxns(dir.path(), 1, 5, std::int64_t{1} << 20);
  auto file = dir.path() / "version-2" / "log.1";
  const auto size = std::filesystem::file_size(file);
  ASSERT_GE(size, std::uint64_t{1} << 20);
  {
    Fd fd = Fd::open(file, O_WRONLY);
    pwriteAll(fd.get(), "x", size - 3000, file);
  }
  try {
    readFrom(dir.path() / "version-2", 0);
    FAIL() << "data after the end was accepted";
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find("zero length followed by data"), std::string::npos)
        << e.what();
  }
}

// Pages of `file` in the page cache between `from` and its end.
std::size_t residentPagesFrom(const std::filesystem::path& file, std::uint64_t from) {
  MappedFile mapped(file);
  auto bytes = mapped.bytes();
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> resident((bytes.size() + page - 1) / page);
  void* start = const_cast<std::uint8_t*>(bytes.data());
  if (::mincore(start, bytes.size(), resident.data()) != 0) return bytes.size();
  return static_cast<std::size_t>(std::count_if(resident.begin() + static_cast<long>(from / page),
                                                resident.end(),
                                                [](unsigned char r) { return r & 1; }));
}

// Recovery reads each log's data, not its preallocated zero tail (64 MiB a file by default):
// space that was preallocated and never written is known to read as zeros. Seen in the page
// cache: after recovery, none of the tail's pages were brought in.
TEST(TxnLog, RecoveryDoesNotReadThePreallocatedTail) {
  TempDir dir;
  constexpr std::uint64_t kTailFrom = 1 << 20;
  writeTxns(dir.path(), 1, 5, std::int64_t{16} << 20);
  auto file = dir.path() / "version-2" / "log.1";
  {
    Fd fd = Fd::open(file, O_RDONLY);
    if (::lseek(fd.get(), kTailFrom, SEEK_DATA) >= 0)
      GTEST_SKIP() << "this file system reports preallocated space as data";
    ASSERT_EQ(::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_DONTNEED), 0);
  }
  ASSERT_EQ(residentPagesFrom(file, kTailFrom), 0u);
  EXPECT_EQ(readFrom(dir.path() / "version-2", 0).size(), 5u);
  EXPECT_EQ(residentPagesFrom(file, kTailFrom), 0u);
}

TEST(TxnLog, IoErrorIsReportedAndNothingMoreIsAcknowledged) {
  TempDir dir;
  DurableLog durable;
  TxnLogWriter w(options(dir.path()), durable.onDurable(), durable.onFatal());
  EXPECT_EQ(w.failure(), "");
  std::filesystem::remove_all(dir.path() / "version-2");  // the next file cannot be created
  w.append(createTxn(1, "/a"));
  ASSERT_TRUE(durable.waitFatal());
  EXPECT_NE(durable.fatal.find("log.1"), std::string::npos) << durable.fatal;
  EXPECT_TRUE(w.failed());
  // Whoever is refused later can say why, in the same words as the fatal report.
  EXPECT_EQ(w.failure(), durable.fatal);
  EXPECT_FALSE(w.append(createTxn(2, "/b")));
  w.stop();
  EXPECT_TRUE(durable.zxids.empty());
}

}  // namespace
}  // namespace zk::storage

namespace zk::storage {
namespace {

// Zab's TRUNC must leave exactly the txns up to the leader's zxid, across file boundaries,
// and a writer started afterwards must continue cleanly after them.
TEST(TxnLogTruncate, KeepsTxnsUpToZxidAcrossFiles) {
  TempDir dir;
  DurableLog durable;
  {
    TxnLogWriter w(options(dir.path()), durable.onDurable(), durable.onFatal());
    for (std::int64_t z = 1; z <= 10; ++z) w.append(createTxn(z, "/a"));
    w.rollLog();
    for (std::int64_t z = 11; z <= 20; ++z) w.append(createTxn(z, "/b"));
  }
  auto v2 = dir.path() / "version-2";
  EXPECT_EQ(truncateTxnLog(v2, 7, [](std::string_view) {}), 13u);
  EXPECT_FALSE(std::filesystem::exists(v2 / "log.b"));
  std::vector<Txn> left = readFrom(v2, -1);
  ASSERT_EQ(left.size(), 7u);
  EXPECT_EQ(left.back().header.zxid, 7);

  TxnLogWriter again(options(dir.path()), durable.onDurable(), durable.onFatal());
  ASSERT_TRUE(again.append(createTxn(8, "/c")));
  again.stop();
  std::vector<Txn> after = readFrom(v2, -1);
  ASSERT_EQ(after.size(), 8u);
  EXPECT_EQ(after.back(), createTxn(8, "/c"));
}

TEST(TxnLogTruncate, NothingAboveZxidIsANoOp) {
  TempDir dir;
  writeTxns(dir.path(), 1, 5);
  auto v2 = dir.path() / "version-2";
  EXPECT_EQ(truncateTxnLog(v2, 5, [](std::string_view) {}), 0u);
  EXPECT_EQ(readFrom(v2, -1).size(), 5u);
}

}  // namespace
}  // namespace zk::storage

#include <gtest/gtest.h>

#include "storage/recovery.h"
#include "storage/snapshot.h"
#include "storage/txn_log.h"
#include "storage_test_util.h"

namespace zk::storage {
namespace {

using namespace testing;

RecoveryOptions quiet() {
  RecoveryOptions o;
  o.log = [](std::string_view) {};
  return o;
}

void logTxns(const std::filesystem::path& logDir, const std::vector<Txn>& txns) {
  TxnLogOptions o;
  o.dataLogDir = logDir;
  o.preAllocSize = 64 * 1024;
  TxnLogWriter w(
      o, [](std::int64_t) {}, [](std::string) {});
  for (const Txn& t : txns) w.append(t);
}

TEST(Recovery, FreshDirectoryGetsAnInitialSnapshot) {
  TempDir data;
  DataTree tree;
  RecoveryResult r = recover(data.path(), data.path(), tree, quiet());
  EXPECT_TRUE(r.wroteInitialSnapshot);
  EXPECT_EQ(r.lastZxid, 0);
  EXPECT_EQ(r.snapshotZxid, -1);
  EXPECT_TRUE(std::filesystem::exists(data.path() / "version-2" / "snapshot.0"));
  DataTree again;
  RecoveryResult r2 = recover(data.path(), data.path(), again, quiet());
  EXPECT_FALSE(r2.wroteInitialSnapshot);
  EXPECT_EQ(r2.snapshotZxid, 0);
  EXPECT_EQ(describeTree(again), describeTree(tree));
}

TEST(Recovery, SnapshotPlusLogRebuildsTreeAndSessions) {
  TempDir data;
  TempDir logs;
  DataTree live;
  SessionMap liveSessions;
  recover(data.path(), logs.path(), live, quiet());
  std::vector<Txn> first = {sessionTxn(1, 0xa, true, 6000), sessionTxn(2, 0xb, true, 9000),
                            createTxn(3, "/x"), ephemeralTxn(4, "/x/e", 0xb)};
  for (const Txn& t : first) live.apply(t);
  logTxns(logs.path(), first);
  writeSnapshot(data.path(), 4, {{0xa, 6000}, {0xb, 9000}}, live);
  std::vector<Txn> second = {sessionTxn(5, 0xb, false), setDataTxn(6, "/x", "new"),
                             sessionTxn(7, 0xc, true, 12000), createTxn(8, "/y")};
  for (const Txn& t : second) live.apply(t);
  logTxns(logs.path(), second);

  DataTree restored;
  RecoveryResult r = recover(data.path(), logs.path(), restored, quiet());
  EXPECT_EQ(r.snapshotZxid, 4);
  EXPECT_EQ(r.txnsReplayed, 4u);
  EXPECT_EQ(r.lastZxid, 8);
  EXPECT_EQ(restored.lastProcessedZxid(), 8);
  EXPECT_EQ(r.sessions, (SessionMap{{0xa, 6000}, {0xc, 12000}}));
  EXPECT_EQ(describeTree(restored), describeTree(live));
  EXPECT_EQ(restored.find("/x/e"), nullptr);  // closing 0xb removed its ephemeral
  EXPECT_FALSE(r.tornTail.has_value());
}

TEST(Recovery, TornTailIsReportedAndEarlierTxnsKept) {
  TempDir data;
  DataTree tree;
  recover(data.path(), data.path(), tree, quiet());
  logTxns(data.path(), {createTxn(1, "/a"), createTxn(2, "/b"), createTxn(3, "/c")});
  auto file = data.path() / "version-2" / "log.1";
  std::string bytes = readAll(file);
  std::size_t end = 16;
  for (const char* p : {"/a", "/b", "/c"}) end += 13 + encodeTxn(createTxn(1, p)).size();
  writeAll(file, bytes.substr(0, end - 5));
  DataTree restored;
  RecoveryResult r = recover(data.path(), data.path(), restored, quiet());
  EXPECT_EQ(r.lastZxid, 2);
  ASSERT_TRUE(r.tornTail.has_value());
  EXPECT_NE(restored.find("/b"), nullptr);
  EXPECT_EQ(restored.find("/c"), nullptr);
}

TEST(Recovery, LogsWithoutSnapshotAreRefused) {
  TempDir data;
  logTxns(data.path(), {createTxn(1, "/a")});
  DataTree tree;
  EXPECT_THROW(recover(data.path(), data.path(), tree, quiet()), StorageError);
  RecoveryOptions trust = quiet();
  trust.trustEmptySnapshot = true;
  DataTree trusted;
  EXPECT_EQ(recover(data.path(), data.path(), trusted, trust).lastZxid, 1);
  EXPECT_NE(trusted.find("/a"), nullptr);
}

TEST(Recovery, UnusableDataDirIsRefusedWithAClearMessage) {
  TempDir data;
  writeAll(data.path() / "file", "not a directory");
  DataTree tree;
  try {
    recover(data.path() / "file", data.path(), tree, quiet());
    FAIL() << "accepted a file as dataDir";
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find("unusable"), std::string::npos) << e.what();
  }
}

TEST(Recovery, ReadOnlyTouchesNothing) {
  TempDir data;
  DataTree tree;
  RecoveryOptions ro = quiet();
  ro.readOnly = true;
  RecoveryResult r = recover(data.path() / "missing", data.path() / "missing", tree, ro);
  EXPECT_FALSE(r.wroteInitialSnapshot);
  EXPECT_FALSE(std::filesystem::exists(data.path() / "missing"));
}

}  // namespace
}  // namespace zk::storage

#include "net/snapshot_schedule.h"

#include <gtest/gtest.h>

#include <chrono>

#include "storage_test_util.h"

namespace zk {
namespace {

using storage::testing::createTxn;
using storage::testing::TempDir;

// Runs the loop until `done` or a deadline: the snapshot is sealed on another thread.
template <class Done>
bool runUntil(asio::io_context& io, Done done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_for(std::chrono::milliseconds(20));
  }
  return done();
}

// With snapCount 2 the threshold is exactly 2: the second counted txn starts a snapshot of the
// tree as it is, which rolls the log first and records its zxid once written.
TEST(SnapshotSchedule, TheThresholdTxnRollsTheLogAndWritesASnapshot) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "version-2");
  asio::io_context io;
  Logger log(LogLevel::kWarn);
  DataTree tree;
  tree.apply(createTxn(1, "/a"));
  tree.apply(createTxn(2, "/b"));
  int rolls = 0;
  SnapshotSchedule schedule(io, log, dir.path(), storage::SnapshotCompression::kGzip, 2, tree,
                            {.rollLog = [&] { ++rolls; },
                             .sessions =
                                 [] {
                                   return storage::SessionMap{{0x100, 6000}};
                                 }});
  schedule.countTxn();
  EXPECT_EQ(rolls, 0);
  schedule.countTxn();
  EXPECT_EQ(rolls, 1);
  ASSERT_TRUE(runUntil(io, [&] { return schedule.last().zxid == 2; }));
  // Stored as configured: the name says how, as ZooKeeper's.
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "version-2" / "snapshot.2.gz"));
}

// Once stopped, no txn count starts a snapshot.
TEST(SnapshotSchedule, AStoppedScheduleStartsNoSnapshot) {
  TempDir dir;
  asio::io_context io;
  Logger log(LogLevel::kWarn);
  DataTree tree;
  int rolls = 0;
  SnapshotSchedule schedule(
      io, log, dir.path(), storage::SnapshotCompression::kNone, 2, tree,
      {.rollLog = [&] { ++rolls; }, .sessions = [] { return storage::SessionMap{}; }});
  schedule.stop();
  for (int i = 0; i < 10; ++i) schedule.countTxn();
  EXPECT_EQ(rolls, 0);
  EXPECT_EQ(schedule.last().zxid, -1);
}

}  // namespace
}  // namespace zk

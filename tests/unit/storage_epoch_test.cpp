#include <gtest/gtest.h>

#include "storage/epoch_files.h"
#include "storage/storage_error.h"
#include "storage_test_util.h"

namespace zk::storage {
namespace {

using testing::TempDir;
using testing::writeAll;

TEST(EpochFiles, MissingFileIsNoEpoch) {
  TempDir dir;
  EXPECT_EQ(readEpochFile(dir.path(), kAcceptedEpochFile), std::nullopt);
}

TEST(EpochFiles, RoundTripAndOverwrite) {
  TempDir dir;
  writeEpochFile(dir.path(), kCurrentEpochFile, 7);
  EXPECT_EQ(readEpochFile(dir.path(), kCurrentEpochFile), 7);
  writeEpochFile(dir.path(), kCurrentEpochFile, 8);
  EXPECT_EQ(readEpochFile(dir.path(), kCurrentEpochFile), 8);
  // Where ZooKeeper keeps them: beside the snapshots.
  EXPECT_EQ(testing::readAll(dir.path() / "version-2" / "currentEpoch"), "8");
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "version-2" / "currentEpoch.tmp"));
}

TEST(EpochFiles, ZooKeepersTextIsRead) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "version-2");
  writeAll(dir.path() / "version-2" / "acceptedEpoch", "12\n");
  EXPECT_EQ(readEpochFile(dir.path(), kAcceptedEpochFile), 12);
}

TEST(EpochFiles, OneKeptInDataDirItselfMovesBesideTheSnapshots) {
  TempDir dir;
  writeAll(dir.path() / "currentEpoch", "5");
  EXPECT_EQ(readEpochFile(dir.path(), kCurrentEpochFile), 5);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "currentEpoch"));
  EXPECT_EQ(testing::readAll(dir.path() / "version-2" / "currentEpoch"), "5");
  EXPECT_EQ(readEpochFile(dir.path(), kCurrentEpochFile), 5);
}

TEST(EpochFiles, GarbageIsRefusedWithThePath) {
  TempDir dir;
  writeAll(dir.path() / "acceptedEpoch", "twelve");
  try {
    readEpochFile(dir.path(), kAcceptedEpochFile);
    FAIL() << "garbage accepted";
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find("acceptedEpoch"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("twelve"), std::string::npos);
  }
}

}  // namespace
}  // namespace zk::storage

#pragma once
// The Zab epochs a member persists, as ZooKeeper keeps them: the text files `acceptedEpoch` (the
// newest epoch it promised to follow) and `currentEpoch` (the epoch whose leader it last synced
// with), each holding one decimal number, in dataDir/version-2 beside the snapshots (ZooKeeper's
// snapDir), so a data directory moves between ZooKeeper and zookube with its epochs.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>

namespace zk::storage {

inline constexpr std::string_view kAcceptedEpochFile = "acceptedEpoch";
inline constexpr std::string_view kCurrentEpochFile = "currentEpoch";

// nullopt when the file does not exist; throws StorageError when it exists but does not hold
// a number, since guessing an epoch could let two leaders share one. A file where zookube 0.1
// kept it, in dataDir itself, is read when version-2 has none, and moved there.
std::optional<std::int64_t> readEpochFile(const std::filesystem::path& dataDir,
                                          std::string_view name);
// Written to a temp file, fsynced and renamed over the old one, so a crash leaves either value.
void writeEpochFile(const std::filesystem::path& dataDir, std::string_view name,
                    std::int64_t epoch);

}  // namespace zk::storage

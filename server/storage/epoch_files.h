#pragma once
// The Zab epochs a member persists in its dataDir, as ZooKeeper keeps them: the text files
// `acceptedEpoch` (the newest epoch it promised to follow) and `currentEpoch` (the epoch whose
// leader it last synced with), each holding one decimal number.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>

namespace zk::storage {

inline constexpr std::string_view kAcceptedEpochFile = "acceptedEpoch";
inline constexpr std::string_view kCurrentEpochFile = "currentEpoch";

// nullopt when the file does not exist; throws StorageError when it exists but does not hold
// a number, since guessing an epoch could let two leaders share one.
std::optional<std::int64_t> readEpochFile(const std::filesystem::path& dataDir,
                                          std::string_view name);
// Written to a temp file, fsynced and renamed over the old one, so a crash leaves either value.
void writeEpochFile(const std::filesystem::path& dataDir, std::string_view name,
                    std::int64_t epoch);

}  // namespace zk::storage

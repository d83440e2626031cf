#pragma once
// What local mode remembers between passes and across its own restarts, in
// <state-dir>/status.json: the status the planner wrote (its only memory), the generation counter
// the manifest file lacks, and a history of restarts for people and tests. The membership is not
// here: the ensemble keeps it (/zookeeper/config). Every write is atomic: a kill -9 leaves either
// the old or the new file.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "model/zk_cluster.h"

namespace zk::op::local {

struct RestartRecord {
  std::string member;
  std::string role;    // its role when it was stopped
  std::string reason;  // the planner's reason
  std::string target;  // the rollout hash it was restarted for
  std::string time;    // RFC 3339, UTC
  bool operator==(const RestartRecord&) const = default;
};

struct LocalState {
  std::string cluster;          // metadata.name the state belongs to
  std::int64_t generation = 0;  // bumped whenever the manifest's spec changes
  std::string specDigest;       // the spec (as JSON text) `generation` was counted for
  ZkClusterStatus status;       // as the last UpdateStatus wrote it
  std::vector<RestartRecord> history;
};

// A missing file is a fresh state; an unreadable one throws std::runtime_error.
LocalState loadState(const std::filesystem::path& file);
void saveState(const std::filesystem::path& file, const LocalState& state);

// A file's whole content; empty when it is missing or unreadable.
std::string readFile(const std::filesystem::path& path);

// Write to a temporary file, fsync it, rename it over `path`, fsync the directory. The file has
// `mode` from its first byte (0600 for what only the operator and its members may read).
void writeFileAtomically(const std::filesystem::path& path, std::string_view content,
                         std::filesystem::perms mode = std::filesystem::perms(0644));

std::string nowRfc3339();

}  // namespace zk::op::local

#pragma once
// Figures about the process and its data directories that cost a directory scan each, so they
// are computed only for the readers that show them (mntr, dirs, conf, a metrics scrape), never
// per tick, and a scrape computes them on its own thread.

#include <cstdint>
#include <filesystem>

namespace zk {

// Entries in /proc/self/fd; -1 when it cannot be read. Grows with the open connections.
std::int64_t openFileDescriptorCount();
// The soft RLIMIT_NOFILE; -1 when unknown.
std::int64_t maxFileDescriptorCount();
// Bytes in the files of dir/version-2 (ZooKeeper's datadir_size and logdir_size).
std::int64_t versionDirectorySize(const std::filesystem::path& dir);

}  // namespace zk

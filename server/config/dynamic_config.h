#pragma once
// The ensemble's membership as ZooKeeper keeps it in /zookeeper/config: one "server.N=..." line
// per member, then "version=<hex zxid of the reconfig>". A dynamic config file holds the same
// lines but the version, which is its name's suffix (formatDynamicConfigFile).

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "config/zoo_config.h"

namespace zk {

struct DynamicConfig {
  std::map<std::int64_t, ServerEntry> servers;
  std::int64_t version = 0;  // zxid of the reconfig that made it; 0 for a static config
  bool operator==(const DynamicConfig&) const = default;
};

std::string formatDynamicConfig(const DynamicConfig& config);
// The body of "<zoo.cfg>.dynamic.<hex version>": ZooKeeper refuses a version line inside.
std::string formatDynamicConfigFile(const DynamicConfig& config);

// Throws std::invalid_argument naming the offending line.
DynamicConfig parseDynamicConfig(std::string_view text);

// The configuration a reconfig request asks for (ZooKeeper's incremental form: `joining` and
// `leaving`, or the whole `newMembers`), each a comma- or newline-separated list of
// "server.N=spec" entries (leaving: ids). Throws std::invalid_argument with the reason; the new
// version is left to the caller.
DynamicConfig applyReconfigRequest(const DynamicConfig& current, std::string_view joining,
                                   std::string_view leaving, std::string_view newMembers);

}  // namespace zk

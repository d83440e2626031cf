#pragma once
// After a reconfig, ZooKeeper keeps the membership in "<zoo.cfg>.dynamic.<version>" and points
// zoo.cfg at it (dynamicConfigFile=...), with the server lines moved out. zookube does the same
// so that tools and operators reading those files see the truth, though its own restarts take
// the membership from the data (/zookeeper/config).

#include <filesystem>
#include <string>

#include "config/dynamic_config.h"

namespace zk {

// Writes the dynamic file and rewrites zoo.cfg (keeping zoo.cfg.bak of the first original),
// each atomically. Throws std::runtime_error naming the file that could not be written (a
// read-only ConfigMap mount, for example).
std::filesystem::path writeDynamicConfigFiles(const std::filesystem::path& zooCfg,
                                              const DynamicConfig& config);

}  // namespace zk

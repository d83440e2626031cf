#pragma once
// Asks members for their role and zxid with the `srvr` four-letter word, all at once, with one
// deadline: a member that does not answer in time is reported as not serving.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/zk_cluster.h"

namespace zk::op::local {

struct SrvrInfo {
  MemberRole role = MemberRole::kUnknown;
  std::int64_t zxid = 0;
};

// The `Mode:` and `Zxid:` lines of a srvr answer; nullopt while the member is not serving
// (electing or syncing answers without a Mode line).
std::optional<SrvrInfo> parseSrvr(std::string_view text);

struct ProbeTarget {
  std::string host;
  int port = 0;
};

// One answer per target, in order.
std::vector<std::optional<SrvrInfo>> probeSrvr(const std::vector<ProbeTarget>& targets,
                                               std::chrono::milliseconds timeout);

}  // namespace zk::op::local

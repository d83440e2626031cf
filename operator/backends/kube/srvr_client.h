#pragma once
// Four-letter words (`srvr`, `conf`) to many members at once with one deadline, for the
// Kubernetes backend. (The local
// backend has its own; the two stay separate so neither backend links the other.)

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/zk_cluster.h"

namespace zk::op::kube {

struct SrvrTarget {
  std::string host;  // a numeric IPv4 or IPv6 address, or a name to resolve
  int port = 0;
};

struct SrvrAnswer {
  MemberRole role = MemberRole::kUnknown;
  std::int64_t zxid = 0;
};

// The Mode and Zxid lines; nullopt when there is no Mode line (the member is not serving).
std::optional<SrvrAnswer> parseSrvrAnswer(std::string_view text);

// One answer per target, in order; a member that does not answer completely (closing the
// connection) within `timeout` gets nullopt.
std::vector<std::optional<std::string>> askFourLetterWord(const std::vector<SrvrTarget>& targets,
                                                          std::string_view word,
                                                          std::chrono::milliseconds timeout);
std::vector<std::optional<SrvrAnswer>> askSrvr(const std::vector<SrvrTarget>& targets,
                                               std::chrono::milliseconds timeout);

}  // namespace zk::op::kube

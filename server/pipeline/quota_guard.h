#pragma once
// ZooKeeper's quota enforcement (zookeeper.enforceQuota, 3.7+): a create or setData that would
// take a quota (tree/quota.h) past a hard limit fails with QUOTAEXCEEDED; past a soft limit it
// goes through and is logged. As in ZooKeeper the check reads the tree's stats, which writes
// still in the pipeline have not reached yet.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "tree/data_tree.h"
#include "util/log.h"

namespace zk {

class QuotaGuard {
 public:
  // `log` may be null (soft limits then pass unlogged).
  QuotaGuard(const DataTree& tree, Logger* log) : tree_(tree), log_(log) {}

  // Throws KeeperError{kQuotaExceeded} when a write at `path` changing the data bytes and the
  // node count of its quota by these amounts would pass a hard limit.
  void check(std::string_view path, std::int64_t bytesDiff, std::int64_t countDiff);

  // Writes refused, by the top-level path component of the node written (ZooKeeper's
  // quota_exceeded_error_per_namespace).
  const std::map<std::string, std::int64_t, std::less<>>& refusedByNamespace() const {
    return refused_;
  }

 private:
  void passed(std::string_view root, std::string_view what, std::int64_t value, bool hard,
              std::int64_t limit);

  const DataTree& tree_;
  Logger* log_;
  std::map<std::string, std::int64_t, std::less<>> refused_;
  std::int64_t softPassed_ = 0;
};

}  // namespace zk

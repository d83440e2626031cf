#include "pipeline/quota_guard.h"

#include "protocol/errors.h"

namespace zk {

void QuotaGuard::check(std::string_view path, std::int64_t bytesDiff, std::int64_t countDiff) {
  auto root = tree_.quotaRoots().governing(path);
  if (!root) return;
  const Node* limits = tree_.find(quota::limitPath(*root));
  if (limits == nullptr) return;
  auto limit = quota::StatsTrack::parse(limits->data());
  bool checkCount = countDiff != 0 && (limit.count() > -1 || limit.countHardLimit() > -1);
  bool checkBytes = bytesDiff != 0 && (limit.bytes() > -1 || limit.byteHardLimit() > -1);
  if (!checkCount && !checkBytes) return;
  const Node* stats = tree_.find(quota::statPath(*root));
  if (stats == nullptr) return;
  auto current = quota::StatsTrack::parse(stats->data());
  auto test = [&](std::string_view what, std::int64_t now, std::int64_t soft, std::int64_t hard) {
    bool isHard = hard > -1;
    std::int64_t line = isHard ? hard : soft;
    if (now <= line) return;
    passed(*root, what, now, isHard, line);
    if (!isHard) return;
    ++refused_[std::string(quota::topNamespace(path))];
    throw KeeperError(Err::kQuotaExceeded, path);
  };
  if (checkCount) test("count", current.count() + countDiff, limit.count(), limit.countHardLimit());
  if (checkBytes) test("bytes", current.bytes() + bytesDiff, limit.bytes(), limit.byteHardLimit());
}

// ZooKeeper rate-limits this line; here: the first soft pass, then one in every thousand.
void QuotaGuard::passed(std::string_view root, std::string_view what, std::int64_t value, bool hard,
                        std::int64_t limit) {
  if (log_ == nullptr || (!hard && softPassed_++ % 1000 != 0)) return;
  std::string kind = what == "count" ? "Count" : "Byte";
  log_->warn("quota", "Quota exceeded: " + std::string(root) + " [current " + std::string(what) +
                          "=" + std::to_string(value) + ", " + (hard ? "hard" : "soft") + kind +
                          "Limit=" + std::to_string(limit) + "]");
}

}  // namespace zk

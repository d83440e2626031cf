#pragma once
// ZooKeeper's server-wide budget for large requests (largeRequestThreshold, largeRequestMaxBytes):
// requests longer than the threshold may together hold at most maxBytes of memory while they
// await their replies; a connection whose request would pass that is closed, as ZooKeeper closes
// it ("Rejecting large request"). jute.maxbuffer bounds one request; this bounds many at once.
// Off by default (threshold -1). Used by the connections of one I/O thread only.

#include <cstddef>
#include <cstdint>

namespace zk {

class LargeRequestBudget {
 public:
  static constexpr std::int64_t kDefaultMaxBytes = 100 * 1024 * 1024;

  // threshold -1 disables the budget; maxBytes must be positive.
  LargeRequestBudget(std::int64_t threshold, std::int64_t maxBytes)
      : threshold_(threshold), maxBytes_(maxBytes) {}

  bool isLarge(std::size_t length) const {
    return threshold_ > 0 && static_cast<std::int64_t>(length) > threshold_;
  }
  // Whether a request of `length` bytes announced by its frame header fits now (ZooKeeper checks
  // before it reads the body, and again when the body is in). A refusal is counted.
  bool fits(std::size_t length) {
    if (!isLarge(length) || inUse_ + static_cast<std::int64_t>(length) <= maxBytes_) return true;
    ++rejected_;
    return false;
  }
  // Takes the bytes of a received large request; false (counted) when they do not fit.
  bool take(std::size_t length) {
    if (!isLarge(length)) return true;
    if (!fits(length)) return false;
    inUse_ += static_cast<std::int64_t>(length);
    return true;
  }
  // Gives back what take() took for a request now answered or dropped.
  void give(std::size_t length) {
    if (isLarge(length)) inUse_ -= static_cast<std::int64_t>(length);
  }

  std::int64_t inUse() const { return inUse_; }
  std::int64_t rejected() const { return rejected_; }

 private:
  std::int64_t threshold_;
  std::int64_t maxBytes_;
  std::int64_t inUse_ = 0;
  std::int64_t rejected_ = 0;
};

}  // namespace zk

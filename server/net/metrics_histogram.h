#pragma once
// Per-request latency figures that cost next to nothing to record: a fixed log-linear
// (HDR-style) histogram plus exact count, sum, min and max. Recording is O(1), takes no lock
// and allocates nothing; quantiles are computed from a copy when someone reads them.
//
// Bucket layout: every value below 64 has a bucket of its own; above, each power of two
// [2^e, 2^(e+1)) is cut into 32 buckets of equal width. A bucket is therefore at most 1/32 of
// its lower bound wide, and its midpoint lies within 1/64 (1.5625%) of every value in it.
// Values are milliseconds, as ZooKeeper's latency summaries are; values from 2^32 ms (49 days)
// on share the last bucket.

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <utility>

#include "net/introspection.h"

namespace zk {

namespace histogram {
inline constexpr int kSubBucketBits = 5;  // 32 buckets per power of two
inline constexpr int kValueBits = 32;     // values below 2^32 get their own bucket range
inline constexpr std::size_t kBuckets = std::size_t(kValueBits - kSubBucketBits + 1)
                                        << kSubBucketBits;
// The largest relative distance between a bucket's midpoint and a value in that bucket.
inline constexpr double kRelativeError = 1.0 / double(2 << kSubBucketBits);

std::size_t bucketOf(std::int64_t value);
std::int64_t lowestIn(std::size_t bucket);
std::int64_t highestIn(std::size_t bucket);  // inclusive
}  // namespace histogram

// A copy of a recorder at one moment: any thread may hold and read it.
struct HistogramSnapshot {
  std::array<std::uint64_t, histogram::kBuckets> buckets{};
  LatencyStats exact;  // count, sum, min, max since the recorder started

  // The q-quantile (0 < q <= 1) by nearest rank over the bucket counts: the midpoint of the
  // bucket holding the ceil(q * n)-th smallest value, clamped to [exact.min, exact.max]. Exact
  // for values below 64; otherwise within histogram::kRelativeError of the true nearest-rank
  // quantile. 0 when the buckets are empty.
  double quantile(double q) const;
  // The bucket counts of what was recorded after `earlier` (a snapshot of the same recorder
  // taken before this one); exact stays this snapshot's.
  HistogramSnapshot since(const HistogramSnapshot& earlier) const;
};

// Written by one thread only (the one that observes: the event loop, or the txn log's writer),
// read by any. Every field is an atomic the writer updates with a relaxed load and store, no
// read-modify-write: on x86-64 and arm64 that costs what plain integers cost. A reader gets
// every field whole, but not all fields from the same instant (a snapshot taken during a
// record() may count that value in one field and not yet in another).
class LatencyRecorder {
 public:
  void record(std::int64_t ms);
  HistogramSnapshot snapshot() const;
  LatencyStats exact() const;

 private:
  static void bump(std::atomic<std::int64_t>& field, std::int64_t by) {
    field.store(field.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  }

  std::array<std::atomic<std::uint64_t>, histogram::kBuckets> buckets_{};
  std::atomic<std::int64_t> count_{0};
  std::atomic<std::int64_t> sum_{0};
  std::atomic<std::int64_t> min_{0};
  std::atomic<std::int64_t> max_{0};
};

// The quantile window of ZooKeeper's Prometheus summaries (the Java client's defaults: 10
// minutes in 5 age buckets): quantiles cover the last 8 to 10 minutes. Fed the recorder's
// cumulative snapshot at each read; it keeps a baseline every 2 minutes and answers with what
// was recorded since the oldest baseline at most 10 minutes old. Not thread-safe.
class RecentWindow {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr auto kMaxAge = std::chrono::minutes(10);
  static constexpr auto kBaselineEvery = std::chrono::minutes(2);

  explicit RecentWindow(Clock::time_point start);
  HistogramSnapshot recent(const HistogramSnapshot& cumulative, Clock::time_point now);

 private:
  std::deque<std::pair<Clock::time_point, HistogramSnapshot>> baselines_;
};

}  // namespace zk

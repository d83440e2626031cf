#include "net/metrics_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

namespace zk {
namespace histogram {
namespace {

constexpr std::size_t kPerPowerOfTwo = std::size_t{1} << kSubBucketBits;
constexpr std::int64_t kLargest = (std::int64_t{1} << kValueBits) - 1;

// Buckets below 2 * kPerPowerOfTwo hold one value each; above, bucket b covers
// [m << shift, (m + 1) << shift) with shift = b / kPerPowerOfTwo - 1 and m the rest.
std::pair<std::uint64_t, int> mantissaAndShift(std::size_t bucket) {
  if (bucket < 2 * kPerPowerOfTwo) return {bucket, 0};
  int shift = static_cast<int>(bucket / kPerPowerOfTwo) - 1;
  return {bucket - std::size_t(shift) * kPerPowerOfTwo, shift};
}

}  // namespace

std::size_t bucketOf(std::int64_t value) {
  auto v = static_cast<std::uint64_t>(std::clamp<std::int64_t>(value, 0, kLargest));
  int shift = std::max(0, static_cast<int>(std::bit_width(v)) - 1 - kSubBucketBits);
  return std::size_t(shift) * kPerPowerOfTwo + std::size_t(v >> shift);
}

std::int64_t lowestIn(std::size_t bucket) {
  auto [mantissa, shift] = mantissaAndShift(bucket);
  return static_cast<std::int64_t>(mantissa << shift);
}

std::int64_t highestIn(std::size_t bucket) {
  auto [mantissa, shift] = mantissaAndShift(bucket);
  return static_cast<std::int64_t>(((mantissa + 1) << shift) - 1);
}

}  // namespace histogram

double HistogramSnapshot::quantile(double q) const {
  std::uint64_t total = 0;
  for (auto n : buckets) total += n;
  if (total == 0) return 0.0;
  auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total)));
  rank = std::clamp<std::uint64_t>(rank, 1, total);
  std::size_t bucket = 0;
  for (std::uint64_t seen = 0; bucket < buckets.size(); ++bucket) {
    seen += buckets[bucket];
    if (seen >= rank) break;
  }
  double low = double(histogram::lowestIn(bucket));
  double mid = low + double(histogram::highestIn(bucket) - histogram::lowestIn(bucket)) / 2.0;
  if (exact.count == 0) return mid;
  return std::clamp(mid, double(exact.min), std::max(double(exact.min), double(exact.max)));
}

HistogramSnapshot HistogramSnapshot::since(const HistogramSnapshot& earlier) const {
  HistogramSnapshot out;
  out.exact = exact;
  for (std::size_t i = 0; i < buckets.size(); ++i)
    out.buckets[i] = buckets[i] - std::min(buckets[i], earlier.buckets[i]);
  return out;
}

void LatencyRecorder::record(std::int64_t ms) {
  ms = std::max<std::int64_t>(0, ms);
  auto& bucket = buckets_[histogram::bucketOf(ms)];
  bucket.store(bucket.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  bool first = count_.load(std::memory_order_relaxed) == 0;
  if (first || ms < min_.load(std::memory_order_relaxed)) min_.store(ms, std::memory_order_relaxed);
  if (first || ms > max_.load(std::memory_order_relaxed)) max_.store(ms, std::memory_order_relaxed);
  bump(sum_, ms);
  bump(count_, 1);
}

LatencyStats LatencyRecorder::exact() const {
  LatencyStats s;
  s.count = count_.load(std::memory_order_relaxed);
  s.sum = sum_.load(std::memory_order_relaxed);
  s.min = min_.load(std::memory_order_relaxed);
  s.max = max_.load(std::memory_order_relaxed);
  return s;
}

HistogramSnapshot LatencyRecorder::snapshot() const {
  HistogramSnapshot s;
  s.exact = exact();
  for (std::size_t i = 0; i < buckets_.size(); ++i)
    s.buckets[i] = buckets_[i].load(std::memory_order_relaxed);
  return s;
}

RecentWindow::RecentWindow(Clock::time_point start) {
  baselines_.emplace_back(start, HistogramSnapshot{});
}

HistogramSnapshot RecentWindow::recent(const HistogramSnapshot& cumulative, Clock::time_point now) {
  if (now - baselines_.back().first >= kBaselineEvery) baselines_.emplace_back(now, cumulative);
  // Drop a baseline once the next one is old enough to serve: the window then spans 8-10 min.
  while (baselines_.size() > 1 && now - baselines_[1].first >= kMaxAge - kBaselineEvery)
    baselines_.pop_front();
  return cumulative.since(baselines_.front().second);
}

}  // namespace zk

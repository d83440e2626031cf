// Latency histogram with bounded memory: log-linear buckets (64 per power of two), so any
// recorded value comes back with under 2% relative error however many samples there are.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace zk::bench {

class LatencyHistogram {
 public:
  void record(uint64_t micros) {
    ++counts_[indexOf(micros)];
    ++total_;
    sum_ += micros;
  }

  void merge(const LatencyHistogram& other) {
    for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
    total_ += other.total_;
    sum_ += other.sum_;
  }

  uint64_t count() const { return total_; }
  double mean() const { return total_ == 0 ? 0 : static_cast<double>(sum_) / total_; }

  // The smallest bucket value v such that at least q of the samples are <= v.
  uint64_t percentile(double q) const {
    if (total_ == 0) return 0;
    auto rank = static_cast<uint64_t>(q * static_cast<double>(total_));
    rank = std::clamp<uint64_t>(rank, 1, total_);
    uint64_t seen = 0;
    for (size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank) return valueOf(i);
    }
    return valueOf(counts_.size() - 1);
  }

 private:
  static constexpr int kSubBits = 6;
  static constexpr uint64_t kSub = uint64_t{1} << kSubBits;  // buckets per power of two
  static constexpr uint64_t kLinear = kSub * 2;              // below this, one bucket per value
  static constexpr int kMaxExponent = 40;                    // 2^46 us: far beyond any run
  static constexpr size_t kBuckets = kLinear + kMaxExponent * kSub;

  static size_t indexOf(uint64_t v) {
    if (v < kLinear) return static_cast<size_t>(v);
    int exponent = std::bit_width(v) - 1 - kSubBits;  // >= 1 here
    exponent = std::min(exponent, kMaxExponent);
    uint64_t mantissa = std::min<uint64_t>(v >> exponent, 2 * kSub - 1);
    return static_cast<size_t>(kLinear + (exponent - 1) * kSub + (mantissa - kSub));
  }

  // Middle of the bucket, so percentiles are unbiased within the bucket's width.
  static uint64_t valueOf(size_t index) {
    if (index < kLinear) return index;
    size_t rest = index - kLinear;
    int exponent = static_cast<int>(rest / kSub) + 1;
    uint64_t mantissa = kSub + rest % kSub;
    return (mantissa << exponent) + ((uint64_t{1} << exponent) >> 1);
  }

  std::array<uint64_t, kBuckets> counts_{};
  uint64_t total_ = 0;
  uint64_t sum_ = 0;
};

}  // namespace zk::bench

#pragma once
// Wall-clock milliseconds since the epoch: ZooKeeper's ctime/mtime and session ids use it.
// Only the composition root reads it; the layers below take time as a parameter.

#include <chrono>
#include <cstdint>

namespace zk {

inline std::int64_t wallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Monotonic milliseconds (an arbitrary origin): for timeouts and durations, never shown as a date.
inline std::int64_t steadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace zk

#pragma once
// Shared by the fuzz targets: stream decoders must give the same answer however the bytes are
// split, so each target feeds its input in chunks whose sizes vary with the input's length
// (not with its bytes, so a valid seed stays valid whatever the split).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace zk::fuzz {

inline std::string_view asChars(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Calls feed(chunk) for consecutive chunks of `bytes` until it returns false.
template <typename Feed>
void feedInChunks(std::string_view bytes, Feed&& feed) {
  std::size_t step = 1 + (bytes.size() * 7919) % 61;
  while (!bytes.empty()) {
    std::size_t n = std::min(step, bytes.size());
    if (!feed(bytes.substr(0, n))) return;
    bytes.remove_prefix(n);
    step = 1 + (step * 31 + 17) % 97;
  }
}

}  // namespace zk::fuzz

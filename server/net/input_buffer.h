#pragma once
// The bytes read from one connection and not yet consumed. Most client connections are idle
// most of the time, so the buffer starts at 4 KiB instead of a fixed 64 KiB (a server with
// 10,000 sessions held 640 MiB of read buffers), doubles while reads keep filling it, and is
// never zero-filled. Room for a large frame is made on demand and given back once consumed.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

namespace zk {

class InputBuffer {
 public:
  static constexpr std::size_t kInitial = 4 * 1024;
  static constexpr std::size_t kBurst = 64 * 1024;  // what reads grow to while they fill it

  // Where the next read goes.
  std::span<std::uint8_t> space() {
    if (capacity_ == 0) {
      resize(kInitial);
    } else if ((lastReadFilled_ && capacity_ < kBurst) || capacity_ - used_ < kInitial / 4) {
      resize(capacity_ * 2);
    }
    return {bytes_.get() + used_, capacity_ - used_};
  }
  void produced(std::size_t n) {
    lastReadFilled_ = n == capacity_ - used_;
    used_ += n;
  }

  std::span<const std::uint8_t> data() const { return {bytes_.get(), used_}; }
  // Drops the first n bytes; what follows moves to the front.
  void consume(std::size_t n) {
    if (n == 0) return;
    std::memmove(bytes_.get(), bytes_.get() + n, used_ - n);
    used_ -= n;
    if (used_ == 0 && capacity_ > kBurst) {  // a large frame's room is not kept
      bytes_.reset();
      capacity_ = 0;
    }
  }
  // A frame of `frameBytes` (its length prefix included) starts at the front: make room for it.
  void reserveFrame(std::size_t frameBytes) {
    if (capacity_ < frameBytes) resize(frameBytes);
  }
  std::size_t capacity() const { return capacity_; }

 private:
  void resize(std::size_t capacity) {
    auto next = std::make_unique_for_overwrite<std::uint8_t[]>(capacity);
    if (used_ > 0) std::memcpy(next.get(), bytes_.get(), used_);
    bytes_ = std::move(next);
    capacity_ = capacity;
  }

  std::unique_ptr<std::uint8_t[]> bytes_;
  std::size_t capacity_ = 0;
  std::size_t used_ = 0;
  bool lastReadFilled_ = false;
};

}  // namespace zk

#include "net/input_buffer.h"

#include <gtest/gtest.h>

#include <numeric>
#include <string>
#include <vector>

namespace zk {
namespace {

// Pretends a socket delivered `bytes` into the buffer's space (no more than there is room for).
std::size_t deliver(InputBuffer& in, const std::vector<std::uint8_t>& bytes, std::size_t from) {
  auto space = in.space();
  std::size_t n = std::min(space.size(), bytes.size() - from);
  std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(from), n, space.begin());
  in.produced(n);
  return n;
}

TEST(InputBuffer, StartsSmallAndStaysSmallForShortReads) {
  InputBuffer in;
  std::vector<std::uint8_t> request(120, 7);
  for (int i = 0; i < 100; ++i) {
    deliver(in, request, 0);
    EXPECT_EQ(in.data().size(), 120u);
    in.consume(120);
  }
  EXPECT_EQ(in.capacity(), InputBuffer::kInitial);
}

TEST(InputBuffer, GrowsWhileReadsFillItAndKeepsEveryByteInOrder) {
  InputBuffer in;
  std::vector<std::uint8_t> stream(300 * 1024);
  std::iota(stream.begin(), stream.end(), 0);
  std::vector<std::uint8_t> seen;
  std::size_t from = 0;
  while (from < stream.size()) {
    from += deliver(in, stream, from);
    auto data = in.data();
    std::size_t take = data.size() / 3;  // the consumer lags: a partial frame stays behind
    seen.insert(seen.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(take));
    in.consume(take);
  }
  auto rest = in.data();
  seen.insert(seen.end(), rest.begin(), rest.end());
  EXPECT_EQ(seen, stream);
  EXPECT_GE(in.capacity(), InputBuffer::kBurst);
}

TEST(InputBuffer, RoomForALargeFrameIsGivenBackOnceItIsConsumed) {
  InputBuffer in;
  std::vector<std::uint8_t> frame(1 << 20, 3);
  std::size_t from = deliver(in, frame, 0);
  in.reserveFrame(frame.size() + InputBuffer::kInitial);
  EXPECT_GE(in.capacity(), frame.size());
  while (from < frame.size()) from += deliver(in, frame, from);
  EXPECT_EQ(in.data().size(), frame.size());
  EXPECT_TRUE(std::equal(frame.begin(), frame.end(), in.data().begin()));
  in.consume(frame.size());
  EXPECT_EQ(in.capacity(), 0u);
  deliver(in, frame, 0);
  EXPECT_EQ(in.capacity(), InputBuffer::kInitial);
}

}  // namespace
}  // namespace zk

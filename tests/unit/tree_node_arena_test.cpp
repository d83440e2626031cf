#include "tree/node_arena.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <set>
#include <vector>

namespace zk {
namespace {

struct Block {
  void* at;
  std::size_t bytes;
  unsigned char fill;
};

bool holds(const Block& b) {
  const auto* p = static_cast<const unsigned char*>(b.at);
  for (std::size_t i = 0; i < b.bytes; ++i) {
    if (p[i] != b.fill) return false;
  }
  return true;
}

TEST(NodeArena, HandsOutDistinctAlignedBlocksAndReusesAFreedOne) {
  NodeArena arena;
  std::set<void*> seen;
  for (int i = 0; i < 100; ++i) {
    void* p = arena.allocate(224);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 8, 0u);
    std::memset(p, i, 224);
    EXPECT_TRUE(seen.insert(p).second);
  }
  void* freed = *seen.begin();
  arena.deallocate(freed, 224);
  // 217..224 bytes share a class: the freed block is the next one handed out.
  EXPECT_EQ(arena.allocate(217), freed);
  for (void* p : seen) arena.deallocate(p, p == freed ? 217 : 224);
}

TEST(NodeArena, SizesOneGranuleApartUseDifferentSlabs) {
  NodeArena arena;
  void* a = arena.allocate(216);
  void* b = arena.allocate(224);
  EXPECT_EQ(arena.slabCount(), 2u);
  arena.deallocate(a, 216);
  EXPECT_NE(arena.allocate(224), a);
  arena.deallocate(b, 224);
}

TEST(NodeArena, GivesBackASlabOnceItsBlocksAreFreedButKeepsTheLast) {
  NodeArena arena;
  std::vector<void*> blocks;
  // Three slabs' worth and a bit of 1 KiB blocks.
  std::size_t perSlab = NodeArena::kSlabBytes / 1024;
  for (std::size_t i = 0; i < perSlab * 3 + 10; ++i) blocks.push_back(arena.allocate(1024));
  EXPECT_EQ(arena.slabCount(), 4u);
  for (void* p : blocks) arena.deallocate(p, 1024);
  EXPECT_EQ(arena.slabCount(), 1u);
  // Making and freeing one block again and again maps nothing new.
  for (int i = 0; i < 1000; ++i) arena.deallocate(arena.allocate(1024), 1024);
  EXPECT_EQ(arena.slabCount(), 1u);
}

TEST(NodeArena, LargeBlocksBypassTheSlabs) {
  NodeArena arena;
  void* big = arena.allocate(NodeArena::kMaxPooled + 1);
  std::memset(big, 1, NodeArena::kMaxPooled + 1);
  EXPECT_EQ(arena.slabCount(), 0u);
  arena.deallocate(big, NodeArena::kMaxPooled + 1);
  void* largestPooled = arena.allocate(NodeArena::kMaxPooled);
  EXPECT_EQ(arena.slabCount(), 1u);
  arena.deallocate(largestPooled, NodeArena::kMaxPooled);
  void* empty = arena.allocate(0);
  EXPECT_NE(empty, nullptr);
  arena.deallocate(empty, 0);
}

// Seeded random mixes of sizes and lifetimes: no block overlaps another or loses its bytes.
TEST(NodeArena, RandomMixesKeepEveryBlockIntact) {
  for (std::uint32_t seed = 1; seed <= 20; ++seed) {
    NodeArena arena;
    std::mt19937 rng(seed);
    std::uniform_int_distribution<std::size_t> size(0, NodeArena::kMaxPooled + 200);
    std::vector<Block> live;
    for (int step = 0; step < 3000; ++step) {
      if (!live.empty() && rng() % 3 == 0) {
        std::size_t i = rng() % live.size();
        ASSERT_TRUE(holds(live[i])) << "seed " << seed << " step " << step;
        arena.deallocate(live[i].at, live[i].bytes);
        live[i] = live.back();
        live.pop_back();
        continue;
      }
      Block b{nullptr, size(rng) % (rng() % 2 == 0 ? 300 : NodeArena::kMaxPooled + 200),
              static_cast<unsigned char>(step)};
      b.at = arena.allocate(b.bytes);
      std::memset(b.at, b.fill, b.bytes);
      live.push_back(b);
    }
    for (const Block& b : live) {
      ASSERT_TRUE(holds(b)) << "seed " << seed;
      arena.deallocate(b.at, b.bytes);
    }
  }
}

// GCC says AddressSanitizer is on with __SANITIZE_ADDRESS__, clang 14 only through __has_feature.
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ZK_TEST_UNDER_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define ZK_TEST_UNDER_ASAN 1
#endif

#if defined(ZK_TEST_UNDER_ASAN)
// The poisoning is what lets the ASan build catch a node used after it was freed.
TEST(NodeArenaDeathTest, AsanReportsABlockUsedAfterItWasFreed) {
  NodeArena arena;
  auto* keep = static_cast<volatile char*>(arena.allocate(224));
  auto* freed = static_cast<volatile char*>(arena.allocate(224));
  arena.deallocate(const_cast<char*>(freed), 224);
  EXPECT_DEATH(freed[100] = 1, "use-after-poison");
  EXPECT_DEATH(keep[224 * 2] = 1, "use-after-poison");  // never handed out
  keep[223] = 1;
  arena.deallocate(const_cast<char*>(keep), 224);
}
#endif

}  // namespace
}  // namespace zk

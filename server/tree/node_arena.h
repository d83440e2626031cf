#pragma once
// Memory for one tree's nodes, in size classes 8 bytes apart. glibc's malloc puts an 8-byte
// header in front of every block and rounds the whole to 16 bytes, so a node of 224 bytes (a
// 20-byte path and a 100-byte value) costs 240 there and 224 here: 15 MiB per million nodes.
//
// Each class carves its nodes out of slabs: 1 MiB mappings aligned to their size, so a freed
// node finds its slab by masking its address and nothing is stored per node. Pages of a slab
// are touched only as nodes are carved from it, so a class with a few nodes costs a few
// pages. A slab whose nodes are all freed is unmapped unless it is its class's last, so a tree
// that shrinks gives its memory back. Blocks above kMaxPooled bytes (nodes with large values)
// come from operator new. Under AddressSanitizer, free and never-used bytes are poisoned.
//
// Not thread-safe: one tree, one thread, like the tree itself.

#include <array>
#include <cstddef>

namespace zk {

class NodeArena {
 public:
  static constexpr std::size_t kGranule = 8;
  static constexpr std::size_t kMaxPooled = 4096;
  static constexpr std::size_t kSlabBytes = std::size_t{1} << 20;

  NodeArena() = default;
  NodeArena(const NodeArena&) = delete;
  NodeArena& operator=(const NodeArena&) = delete;
  // Unmaps every slab: the owner frees its nodes first.
  ~NodeArena();

  // At least `bytes` bytes, aligned to 8. Throws std::bad_alloc when the system refuses.
  void* allocate(std::size_t bytes);
  // `bytes` must be what allocate() was asked for.
  void deallocate(void* block, std::size_t bytes) noexcept;

  // Slabs mapped now, over all classes (for tests and the memory figures).
  std::size_t slabCount() const { return slabCount_; }

 private:
  struct Slab;
  struct SizeClass {
    Slab* withRoom = nullptr;  // slabs with a free or never-used chunk
    Slab* all = nullptr;       // every slab of the class
  };

  static std::size_t classOf(std::size_t bytes) { return (bytes + kGranule - 1) / kGranule - 1; }
  Slab* mapSlab(std::size_t chunkBytes);
  void unmapSlab(SizeClass& c, Slab* slab) noexcept;

  std::array<SizeClass, kMaxPooled / kGranule> classes_{};
  std::size_t slabCount_ = 0;
};

}  // namespace zk

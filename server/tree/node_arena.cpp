#include "tree/node_arena.h"

#include <sanitizer/asan_interface.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <new>

namespace zk {

// The header at the start of every slab; the chunks follow it.
struct NodeArena::Slab {
  Slab* prevWithRoom = nullptr;
  Slab* nextWithRoom = nullptr;
  Slab* prevAll = nullptr;
  Slab* nextAll = nullptr;
  bool hasRoomListed = false;
  void* freeList = nullptr;  // freed chunks, each holding the next one's address
  char* unused = nullptr;    // chunks from here to `end` were never handed out
  char* end = nullptr;
  std::size_t chunkBytes = 0;
  std::size_t live = 0;

  bool hasRoom() const {
    return freeList != nullptr || static_cast<std::size_t>(end - unused) >= chunkBytes;
  }
};

namespace {

// A doubly linked list threaded through the slabs by one pair of members.
template <class T, T* T::*Prev, T* T::*Next>
struct SlabList {
  static void pushFront(T*& head, T* item) {
    item->*Prev = nullptr;
    item->*Next = head;
    if (head != nullptr) head->*Prev = item;
    head = item;
  }
  static void remove(T*& head, T* item) {
    if (item->*Prev != nullptr) {
      item->*Prev->*Next = item->*Next;
    } else {
      head = item->*Next;
    }
    if (item->*Next != nullptr) item->*Next->*Prev = item->*Prev;
    item->*Prev = item->*Next = nullptr;
  }
};

// Pointer arithmetic from here keeps the pointer's provenance; a cast from an integer would not.
std::size_t offsetInSlab(const void* p) {
  return reinterpret_cast<std::uintptr_t>(p) & (NodeArena::kSlabBytes - 1);
}

}  // namespace

NodeArena::~NodeArena() {
  for (SizeClass& c : classes_) {
    while (c.all != nullptr) unmapSlab(c, c.all);
  }
}

void* NodeArena::allocate(std::size_t bytes) {
  if (bytes > kMaxPooled) return ::operator new(bytes);
  std::size_t index = classOf(std::max(bytes, std::size_t{1}));
  SizeClass& c = classes_[index];
  Slab* slab = c.withRoom;
  if (slab == nullptr) {
    slab = mapSlab((index + 1) * kGranule);
    SlabList<Slab, &Slab::prevAll, &Slab::nextAll>::pushFront(c.all, slab);
    SlabList<Slab, &Slab::prevWithRoom, &Slab::nextWithRoom>::pushFront(c.withRoom, slab);
    slab->hasRoomListed = true;
  }
  void* chunk = nullptr;
  if (slab->freeList != nullptr) {
    chunk = slab->freeList;
    ASAN_UNPOISON_MEMORY_REGION(chunk, slab->chunkBytes);
    std::memcpy(&slab->freeList, chunk, sizeof(void*));
  } else {
    chunk = slab->unused;
    slab->unused += slab->chunkBytes;
    ASAN_UNPOISON_MEMORY_REGION(chunk, slab->chunkBytes);
  }
  ++slab->live;
  if (!slab->hasRoom()) {
    SlabList<Slab, &Slab::prevWithRoom, &Slab::nextWithRoom>::remove(c.withRoom, slab);
    slab->hasRoomListed = false;
  }
  return chunk;
}

void NodeArena::deallocate(void* block, std::size_t bytes) noexcept {
  if (bytes > kMaxPooled) {
    ::operator delete(block);
    return;
  }
  SizeClass& c = classes_[classOf(std::max(bytes, std::size_t{1}))];
  auto* slab = reinterpret_cast<Slab*>(static_cast<char*>(block) - offsetInSlab(block));
  std::memcpy(block, &slab->freeList, sizeof(void*));
  slab->freeList = block;
  ASAN_POISON_MEMORY_REGION(block, slab->chunkBytes);
  --slab->live;
  // The class keeps its last slab, so one node made and freed over and over maps nothing.
  if (slab->live == 0 && (c.all != slab || slab->nextAll != nullptr)) {
    unmapSlab(c, slab);
    return;
  }
  if (!slab->hasRoomListed) {
    SlabList<Slab, &Slab::prevWithRoom, &Slab::nextWithRoom>::pushFront(c.withRoom, slab);
    slab->hasRoomListed = true;
  }
}

NodeArena::Slab* NodeArena::mapSlab(std::size_t chunkBytes) {
  // Twice the size, then the unaligned ends go back: mmap itself aligns only to a page.
  void* raw =
      ::mmap(nullptr, 2 * kSlabBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  char* rawBase = static_cast<char*>(raw);
  std::size_t lead = (kSlabBytes - offsetInSlab(raw)) % kSlabBytes;
  char* base = rawBase + lead;
  if (lead != 0) ::munmap(rawBase, lead);
  ::munmap(base + kSlabBytes, kSlabBytes - lead);
  auto* slab = new (base) Slab();
  slab->chunkBytes = chunkBytes;
  constexpr std::size_t kHeaderBytes = (sizeof(Slab) + kGranule - 1) & ~(kGranule - 1);
  slab->unused = base + kHeaderBytes;
  slab->end = base + kSlabBytes;
  ASAN_POISON_MEMORY_REGION(slab->unused, static_cast<std::size_t>(slab->end - slab->unused));
  ++slabCount_;
  return slab;
}

void NodeArena::unmapSlab(SizeClass& c, Slab* slab) noexcept {
  SlabList<Slab, &Slab::prevAll, &Slab::nextAll>::remove(c.all, slab);
  if (slab->hasRoomListed) {
    SlabList<Slab, &Slab::prevWithRoom, &Slab::nextWithRoom>::remove(c.withRoom, slab);
  }
  // The shadow outlives the mapping: whatever is mapped here next must not start poisoned.
  ASAN_UNPOISON_MEMORY_REGION(slab, kSlabBytes);
  slab->~Slab();
  ::munmap(slab, kSlabBytes);
  --slabCount_;
}

}  // namespace zk

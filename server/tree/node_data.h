#pragma once
// A znode's data in 16 bytes instead of std::string's 32: a size, then either the bytes
// themselves (up to 12) or a pointer to exactly `size` bytes on the heap. A tree of a million
// nodes keeps a million of these, so the 16 bytes saved are 16 MB.

#include <cstdint>
#include <cstring>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

namespace zk {

class NodeData {
 public:
  NodeData() = default;
  NodeData(std::string_view bytes) { assign(bytes); }  // NOLINT: as a string converts
  NodeData(const NodeData& other) { assign(other.view()); }
  NodeData(NodeData&& other) noexcept { take(other); }
  NodeData& operator=(const NodeData& other) {
    if (this != &other) assign(other.view());
    return *this;
  }
  NodeData& operator=(NodeData&& other) noexcept {
    if (this != &other) {
      release();
      take(other);
    }
    return *this;
  }
  NodeData& operator=(std::string_view bytes) {
    assign(bytes);
    return *this;
  }
  ~NodeData() { release(); }

  std::string_view view() const { return {data(), size_}; }
  operator std::string_view() const { return view(); }  // NOLINT: reads take string_view
  std::string str() const { return std::string(view()); }
  const char* data() const { return onHeap() ? heapPointer() : buf_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  bool operator==(std::string_view other) const { return view() == other; }

 private:
  static constexpr std::size_t kInline = 12;
  bool onHeap() const { return size_ > kInline; }
  char* heapPointer() const {
    char* p = nullptr;
    std::memcpy(&p, buf_, sizeof p);
    return p;
  }
  void assign(std::string_view bytes) {
    // Built aside first, so assigning a view of our own bytes stays valid.
    NodeData next;
    if (bytes.size() > kInline) {
      auto heap = std::make_unique_for_overwrite<char[]>(bytes.size());
      std::memcpy(heap.get(), bytes.data(), bytes.size());
      char* p = heap.release();
      std::memcpy(next.buf_, &p, sizeof p);
    } else if (!bytes.empty()) {
      std::memcpy(next.buf_, bytes.data(), bytes.size());
    }
    next.size_ = static_cast<std::uint32_t>(bytes.size());
    release();
    take(next);
  }
  void take(NodeData& other) {
    std::memcpy(buf_, other.buf_, kInline);
    size_ = std::exchange(other.size_, 0);
  }
  void release() {
    if (onHeap()) std::unique_ptr<char[]>(heapPointer()).reset();
    size_ = 0;
  }

  std::uint32_t size_ = 0;
  char buf_[kInline] = {};
};

inline std::ostream& operator<<(std::ostream& out, const NodeData& data) {
  return out << data.view();
}

}  // namespace zk

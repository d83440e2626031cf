#include "tree/node.h"

#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>

namespace zk {
namespace {

std::uint32_t checkedSize(std::size_t size, const char* what) {
  // Requests are capped at jute.maxbuffer long before this; the check keeps a 32-bit field honest.
  if (size > std::numeric_limits<std::uint32_t>::max()) {
    throw std::length_error(std::string("znode ") + what + " longer than 4 GiB");
  }
  return static_cast<std::uint32_t>(size);
}

}  // namespace

void NodeFree::operator()(Node* node) const noexcept {
  node->~Node();
  ::operator delete(static_cast<void*>(node));
}

NodePtr Node::make(std::string_view path, std::string_view data, std::int64_t aclRef,
                   const StatPersisted& stat) {
  std::uint32_t pathSize = checkedSize(path.size(), "path");
  std::uint32_t dataSize = checkedSize(data.size(), "data");
  // The struct and its trailing bytes are one block; NodeFree is the only way it is released.
  void* block = ::operator new(sizeof(Node) + pathSize + dataSize);
  NodePtr node(new (block) Node(pathSize, dataSize, aclRef, stat));
  if (pathSize != 0) std::memcpy(node->bytes(), path.data(), pathSize);
  if (dataSize != 0) std::memcpy(node->bytes() + pathSize, data.data(), dataSize);
  return node;
}

NodePtr Node::withData(const Node& node, std::string_view data) {
  NodePtr copy = make(node.path(), data, node.aclRef, node.stat);
  copy->numChildren_ = node.numChildren_;
  return copy;
}

void Node::overwriteData(std::string_view data) {
  if (data.size() != dataSize_) throw std::logic_error("overwriteData needs data of equal length");
  if (dataSize_ != 0) std::memmove(bytes() + pathSize_, data.data(), dataSize_);
}

}  // namespace zk

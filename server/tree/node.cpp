#include "tree/node.h"

#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>

namespace zk {
namespace {

// Requests are capped at jute.maxbuffer long before this; the check keeps a 32-bit field honest
// (31 bits for the data, whose length shares its field with the null mark).
std::uint32_t checkedSize(std::size_t size, const char* what) {
  if (size > std::numeric_limits<std::int32_t>::max()) {
    throw std::length_error(std::string("znode ") + what + " longer than 2 GiB");
  }
  return static_cast<std::uint32_t>(size);
}

}  // namespace

NodeStat::NodeStat(const StatPersisted& p, std::int32_t numChildren)
    : czxid(p.czxid),
      mzxid(p.mzxid),
      ctime(p.ctime),
      mtime(p.mtime),
      ephemeralOwner(p.ephemeralOwner),
      pzxid(p.pzxid),
      version(p.version),
      cversion(p.cversion),
      aversion(p.aversion),
      numChildren(numChildren) {}

StatPersisted NodeStat::persisted() const {
  return StatPersisted{czxid,    mzxid,    ctime,          mtime, version,
                       cversion, aversion, ephemeralOwner, pzxid};
}

void NodeFree::operator()(Node* node) const noexcept {
  Node::release(node, *arena);
}

void Node::release(Node* node, NodeArena& arena) noexcept {
  std::size_t bytes = node->blockBytes();
  node->~Node();
  arena.deallocate(node, bytes);
}

NodePtr Node::make(NodeArena& arena, std::string_view path, NodeData data, std::int64_t aclRef,
                   const StatPersisted& stat) {
  return build(arena, path, data, aclRef, NodeStat(stat, 0));
}

NodePtr Node::withData(NodeArena& arena, const Node& node, NodeData data) {
  return build(arena, node.path(), data, node.aclRef, node.stat);
}

NodePtr Node::build(NodeArena& arena, std::string_view path, NodeData data, std::int64_t aclRef,
                    const NodeStat& stat) {
  std::uint32_t pathSize = checkedSize(path.size(), "path");
  std::uint32_t dataSize = data ? checkedSize(data->size(), "data") : 0;
  // The struct and its trailing bytes are one block; NodeFree is the only way it is released.
  void* block = arena.allocate(sizeof(Node) + pathSize + dataSize);
  NodePtr node(new (block) Node(pathSize, data ? dataSize : kNullData, aclRef, stat),
               NodeFree{&arena});
  if (pathSize != 0) std::memcpy(node->bytes(), path.data(), pathSize);
  if (dataSize != 0) std::memcpy(node->bytes() + pathSize, data->data(), dataSize);
  return node;
}

void Node::overwriteData(NodeData data) {
  std::size_t size = data ? data->size() : 0;
  if (size != dataSize()) throw std::logic_error("overwriteData needs data of equal length");
  if (size != 0) std::memmove(bytes() + pathSize_, data->data(), size);
  dataSize_ = data ? dataSize() : (dataSize() | kNullData);
}

}  // namespace zk

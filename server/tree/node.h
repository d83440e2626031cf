#pragma once
// One znode in one block from its tree's NodeArena: the tree's link, stat and ACL reference,
// then the path and the data bytes right behind the struct. A million znodes with 20-byte
// paths and 100-byte values cost 224 bytes each this way; as a std::map entry with a
// separately allocated path string and data buffer they cost 320 (rb-tree header, key string
// and its heap copy, data block, each with malloc's own header and rounding).

#include <boost/intrusive/set_hook.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "protocol/records.h"
#include "tree/acl_cache.h"
#include "tree/node_arena.h"

namespace zk {

// What a node keeps of its Stat: ZooKeeper's persisted fields and the child count (the data
// length is the data's). The 32-bit fields sit together so no padding falls inside: 64 bytes,
// where StatPersisted and a separate counter took 72.
struct NodeStat {
  std::int64_t czxid = 0;
  std::int64_t mzxid = 0;
  std::int64_t ctime = 0;
  std::int64_t mtime = 0;
  std::int64_t ephemeralOwner = 0;
  std::int64_t pzxid = 0;
  std::int32_t version = 0;
  std::int32_t cversion = 0;
  std::int32_t aversion = 0;
  // Children are not stored: they are the next entries of the ordered set, so a node costs a
  // counter instead of a set of names.
  std::int32_t numChildren = 0;

  NodeStat() = default;
  NodeStat(const StatPersisted& p, std::int32_t numChildren);
  StatPersisted persisted() const;
  bool operator==(const NodeStat&) const = default;
};

// A znode's data as it is handed in: nullopt is null data, which ZooKeeper keeps apart from
// empty data (getData answers a null buffer, length -1).
using NodeData = std::optional<std::string_view>;

class Node;
struct NodeFree {
  NodeArena* arena = nullptr;
  void operator()(Node* node) const noexcept;
};
// Owns a node until it is linked into a NodeSet, which then owns it.
using NodePtr = std::unique_ptr<Node, NodeFree>;

// optimize_size keeps the red-black colour in the parent pointer: three words per link.
class Node : public boost::intrusive::set_base_hook<boost::intrusive::optimize_size<true>> {
 public:
  static NodePtr make(NodeArena& arena, std::string_view path, NodeData data, std::int64_t aclRef,
                      const StatPersisted& stat);
  // Ends `node` and returns its block (struct and trailing bytes) to `arena`: the only way a
  // node is released, through NodeFree.
  static void release(Node* node, NodeArena& arena) noexcept;
  // A copy of `node` (stat, ACL and child count) holding other data.
  static NodePtr withData(NodeArena& arena, const Node& node, NodeData data);

  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // The tree's key: the path, with "" for the root.
  std::string_view path() const { return {bytes(), pathSize_}; }
  // The data bytes: empty for null data too.
  std::string_view data() const { return {bytes() + pathSize_, dataSize()}; }
  bool dataIsNull() const { return (dataSize_ & kNullData) != 0; }
  NodeData nullableData() const { return dataIsNull() ? NodeData() : data(); }
  // Overwrites the data in place; only for data of the same length.
  void overwriteData(NodeData data);

  std::int64_t aclRef = AclCache::kOpenUnsafeRef;
  NodeStat stat;

 private:
  Node(std::uint32_t pathSize, std::uint32_t dataSize, std::int64_t aclRef, const NodeStat& stat)
      : aclRef(aclRef), stat(stat), pathSize_(pathSize), dataSize_(dataSize) {}
  ~Node() = default;
  static NodePtr build(NodeArena& arena, std::string_view path, NodeData data, std::int64_t aclRef,
                       const NodeStat& stat);
  // The top bit of dataSize_ marks null data; sizes stay far below it (jute.maxbuffer).
  static constexpr std::uint32_t kNullData = 0x80000000u;
  std::uint32_t dataSize() const { return dataSize_ & ~kNullData; }

  // The trailing bytes start where the struct ends; char access is always allowed to alias.
  const char* bytes() const { return reinterpret_cast<const char*>(this + 1); }
  char* bytes() { return reinterpret_cast<char*>(this + 1); }
  std::size_t blockBytes() const { return sizeof(Node) + pathSize_ + dataSize(); }

  std::uint32_t pathSize_;
  std::uint32_t dataSize_;
};

// Three link words, the ACL reference, the stat and two lengths: nothing else may creep in.
static_assert(sizeof(void*) != 8 || sizeof(Node) == 104, "a znode's fixed part grew");

}  // namespace zk

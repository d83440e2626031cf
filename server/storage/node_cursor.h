#pragma once
// The nodes of a tree encoded a bounded number at a time, in PathLess order (parents before
// children), each call resuming after the last path written even if the tree changed in
// between: the walk behind fuzzy snapshots, on disk (SnapshotWriter) and on the wire (SNAP).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "storage/snapshot_format.h"
#include "tree/data_tree.h"

namespace zk::storage {

class NodeCursor {
 public:
  // Up to maxNodes more nodes into `encoder`; true once every node is written.
  bool encodeMore(const DataTree& tree, SnapshotEncoder& encoder, std::size_t maxNodes) {
    if (done_) return true;
    // The root is stored under "", the smallest key, so an inclusive start at "" visits it.
    auto last = tree.visitFrom(resumeAfter_.value_or(""), !resumeAfter_.has_value(), maxNodes,
                               [&](std::string_view path, const Node& node) {
                                 encoder.node(path, node.nullableData(), node.aclRef,
                                              node.stat.persisted());
                                 ++nodes_;
                               });
    if (last) {
      resumeAfter_ = std::move(last);
    } else {
      done_ = true;
    }
    return done_;
  }
  std::uint64_t nodes() const { return nodes_; }

 private:
  std::optional<std::string> resumeAfter_;
  std::uint64_t nodes_ = 0;
  bool done_ = false;
};

}  // namespace zk::storage

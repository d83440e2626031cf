#pragma once
// The snapshot a ZooKeeper leader streams to a learner after a SNAP packet: the sessions and
// the tree exactly as in a snapshot file, but with no file header and no checksum seal, ended
// by the string "BenWasHere" (LearnerHandler.syncFollower / Learner.syncWithLeader). There is
// no length prefix, so the receiver finds the end by walking the records.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "storage/snapshot_format.h"
#include "tree/data_tree.h"

namespace zk::storage {

// The stream for SNAP: sessions, ACL cache, nodes, "/", "BenWasHere".
std::string encodeSnapshotStream(const SessionMap& sessions, const DataTree& tree);

// Walks a SNAP stream as its bytes arrive, however they are split, and turns it into snapshot
// file bytes (header and seal added) that parseSnapshot and the loader accept.
class SnapshotStreamScanner {
 public:
  struct NeedMore {};
  struct Done {
    std::string snapshotFile;  // header + the stream's records + seal
    std::string leftover;      // bytes after the signature: the packets that follow
  };
  struct Malformed {
    std::string reason;
  };
  using Result = std::variant<NeedMore, Done, Malformed>;

  explicit SnapshotStreamScanner(std::size_t maxBytes = std::size_t{1} << 32)
      : maxBytes_(maxBytes) {}
  Result feed(std::string_view bytes);

 private:
  enum class Phase { SessionCount, Sessions, AclCount, Acls, Nodes, Signature };
  // Parses one record at buffer_[pos_]; false when it is not all there yet.
  bool step();
  Phase phase_ = Phase::SessionCount;
  std::int64_t remaining_ = 0;
  std::string buffer_;
  std::size_t pos_ = 0;
  std::size_t bodyEnd_ = 0;  // where the signature starts
  bool done_ = false;
  std::size_t maxBytes_;
};

}  // namespace zk::storage

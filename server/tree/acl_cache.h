#pragma once
// ACL lists interned to 64-bit references with usage counts (ZooKeeper's
// ReferenceCountedACLCache). Nodes store the reference; snapshots store the reference map.

#include <cstdint>
#include <map>
#include <stdexcept>
#include <unordered_map>

#include "protocol/records.h"

namespace zk {

// A node refers to an ACL list the cache does not hold: a snapshot that names a reference it
// never defines (ZooKeeper loads such a snapshot too, and fails each request that needs the
// list). Requests that meet it are answered MARSHALLINGERROR, as ZooKeeper answers them.
class UnknownAclReference : public std::runtime_error {
 public:
  explicit UnknownAclReference(std::int64_t ref);
  std::int64_t ref() const { return ref_; }

 private:
  std::int64_t ref_;
};

class AclCache {
 public:
  // The reference ZooKeeper gives nodes created without an ACL list (the root and /zookeeper):
  // it always means world:anyone with all permissions and is never stored in the map.
  static constexpr std::int64_t kOpenUnsafeRef = -1;
  static const AclList& openAclUnsafe();

  // The reference for `acl`, allocating one if the list is new; counts one more usage.
  std::int64_t intern(const AclList& acl);
  // Throws UnknownAclReference for a reference that is not in the cache.
  const AclList& get(std::int64_t ref) const;
  // Null for a reference that is not in the cache.
  const AclList* find(std::int64_t ref) const;
  // Unknown references are ignored, as ZooKeeper ignores them.
  void addUsage(std::int64_t ref);
  // Drops the list once its last usage is gone.
  void removeUsage(std::int64_t ref);

  // Snapshot writing: every stored (reference, list), in reference order.
  template <class F>
  void forEach(F&& fn) const {
    for (const auto& [ref, entry] : byRef_) fn(ref, entry.acl);
  }
  // Snapshot reading: registers a list with no usages yet; loadNode adds them, and
  // purgeUnused then drops lists no node refers to.
  void load(std::int64_t ref, AclList acl);
  void purgeUnused();
  void clear();

  std::size_t size() const { return byRef_.size(); }
  std::int64_t usages(std::int64_t ref) const;

 private:
  struct Entry {
    AclList acl;
    std::int64_t usages = 0;
  };
  void erase(std::map<std::int64_t, Entry>::iterator it);

  std::map<std::int64_t, Entry> byRef_;
  std::map<AclList, std::int64_t> byList_;
  std::int64_t lastRef_ = 0;
};

}  // namespace zk

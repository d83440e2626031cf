#include "tree/acl_cache.h"

#include <stdexcept>
#include <string>

#include "protocol/opcodes.h"

namespace zk {

UnknownAclReference::UnknownAclReference(std::int64_t ref)
    : std::runtime_error("ACL reference " + std::to_string(ref) +
                         " is not defined: the snapshot holds no ACL list for it"),
      ref_(ref) {}

const AclList& AclCache::openAclUnsafe() {
  static const AclList kOpen{ACL{perms::kAll, Id{"world", "anyone"}}};
  return kOpen;
}

std::int64_t AclCache::intern(const AclList& acl) {
  auto found = byList_.find(acl);
  std::int64_t ref;
  if (found != byList_.end()) {
    ref = found->second;
  } else {
    ref = ++lastRef_;
    byRef_.emplace(ref, Entry{acl, 0});
    byList_.emplace(acl, ref);
  }
  addUsage(ref);
  return ref;
}

const AclList& AclCache::get(std::int64_t ref) const {
  const AclList* acl = find(ref);
  if (acl == nullptr) throw UnknownAclReference(ref);
  return *acl;
}

const AclList* AclCache::find(std::int64_t ref) const {
  if (ref == kOpenUnsafeRef) return &openAclUnsafe();
  auto it = byRef_.find(ref);
  return it == byRef_.end() ? nullptr : &it->second.acl;
}

void AclCache::addUsage(std::int64_t ref) {
  auto it = byRef_.find(ref);
  if (it != byRef_.end()) ++it->second.usages;
}

void AclCache::removeUsage(std::int64_t ref) {
  auto it = byRef_.find(ref);
  if (it == byRef_.end()) return;
  if (--it->second.usages <= 0) erase(it);
}

void AclCache::load(std::int64_t ref, AclList acl) {
  if (ref > lastRef_) lastRef_ = ref;
  auto [it, inserted] = byRef_.try_emplace(ref, Entry{acl, 0});
  if (!inserted) {
    byList_.erase(it->second.acl);
    it->second = Entry{acl, 0};
  }
  byList_[std::move(acl)] = ref;
}

void AclCache::purgeUnused() {
  for (auto it = byRef_.begin(); it != byRef_.end();) {
    auto next = std::next(it);
    if (it->second.usages <= 0) erase(it);
    it = next;
  }
}

void AclCache::clear() {
  byRef_.clear();
  byList_.clear();
  lastRef_ = 0;
}

std::int64_t AclCache::usages(std::int64_t ref) const {
  auto it = byRef_.find(ref);
  return it == byRef_.end() ? 0 : it->second.usages;
}

void AclCache::erase(std::map<std::int64_t, Entry>::iterator it) {
  auto list = byList_.find(it->second.acl);
  if (list != byList_.end() && list->second == it->first) byList_.erase(list);
  byRef_.erase(it);
}

}  // namespace zk

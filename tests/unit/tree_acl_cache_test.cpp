#include <gtest/gtest.h>

#include <stdexcept>

#include "protocol/opcodes.h"
#include "tree/acl_cache.h"

namespace zk {
namespace {

AclList digestAcl(const std::string& user) {
  return {ACL{perms::kAll, Id{"digest", user + ":h"}}};
}

TEST(AclCache, InternSharesReferencesAndCountsUsages) {
  AclCache cache;
  auto a = cache.intern(digestAcl("a"));
  auto b = cache.intern(digestAcl("b"));
  EXPECT_NE(a, b);
  EXPECT_EQ(cache.intern(digestAcl("a")), a);
  EXPECT_EQ(cache.usages(a), 2);
  EXPECT_EQ(cache.get(b), digestAcl("b"));
  cache.removeUsage(a);
  EXPECT_EQ(cache.get(a), digestAcl("a"));
  cache.removeUsage(a);
  EXPECT_THROW(cache.get(a), UnknownAclReference);
  EXPECT_EQ(cache.size(), 1u);
}

TEST(AclCache, MinusOneIsOpenUnsafeAndNeverStored) {
  AclCache cache;
  const AclList& open = cache.get(AclCache::kOpenUnsafeRef);
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].perms, perms::kAll);
  EXPECT_EQ(open[0].id, (Id{"world", "anyone"}));
  cache.addUsage(AclCache::kOpenUnsafeRef);
  cache.removeUsage(AclCache::kOpenUnsafeRef);
  EXPECT_EQ(cache.size(), 0u);
  // An explicit open list is interned like any other, as ZooKeeper does.
  EXPECT_GT(cache.intern(open), 0);
}

TEST(AclCache, LoadKeepsReferencesAndContinuesNumberingAfterThem) {
  AclCache cache;
  cache.load(7, digestAcl("a"));
  cache.load(3, digestAcl("b"));
  cache.addUsage(7);
  EXPECT_EQ(cache.intern(digestAcl("b")), 3);
  EXPECT_EQ(cache.intern(digestAcl("c")), 8);
  cache.load(9, digestAcl("unused"));
  cache.purgeUnused();
  EXPECT_THROW(cache.get(9), UnknownAclReference);
  EXPECT_EQ(cache.get(7), digestAcl("a"));
  std::vector<std::int64_t> refs;
  cache.forEach([&](std::int64_t ref, const AclList&) { refs.push_back(ref); });
  EXPECT_EQ(refs, (std::vector<std::int64_t>{3, 7, 8}));
}

TEST(AclCache, AnUndefinedReferenceIsATypedErrorNamingIt) {
  AclCache cache;
  try {
    cache.get(42);
    FAIL() << "no exception";
  } catch (const std::exception& e) {  // an ordinary std::exception, with a message
    const auto* unknown = dynamic_cast<const UnknownAclReference*>(&e);
    ASSERT_NE(unknown, nullptr);
    EXPECT_EQ(unknown->ref(), 42);
    EXPECT_NE(std::string(e.what()).find("ACL reference 42 is not defined"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace zk

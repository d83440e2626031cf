#include <gtest/gtest.h>

#include "acl/acl.h"
#include "protocol/errors.h"
#include "protocol/opcodes.h"

namespace zk {
namespace {

const Id kLocal{"ip", "127.0.0.1"};

TEST(Digest, MatchesZooKeepersGenerateDigest) {
  EXPECT_EQ(digestFor("super:admin"), "super:xQJmxLMiHGwaqBvst5y6rkB6HQs=");
  EXPECT_EQ(digestFor("super:admin").substr(0, 6), "super:");
  EXPECT_NE(digestFor("bob:pw"), digestFor("bob:pw2"));
}

TEST(AclCheck, EmptyWorldAndSuper) {
  std::vector<Id> ids{kLocal};
  EXPECT_TRUE(permitted({}, perms::kAdmin, ids, false));
  AclList readOnly{ACL{perms::kRead, Id{"world", "anyone"}}};
  EXPECT_TRUE(permitted(readOnly, perms::kRead, ids, false));
  EXPECT_FALSE(permitted(readOnly, perms::kWrite, ids, false));
  EXPECT_TRUE(permitted(readOnly, perms::kWrite, ids, true));
  EXPECT_TRUE(permitted(readOnly, perms::kRead | perms::kAdmin, ids, false));  // any bit
}

TEST(AclCheck, DigestNeedsTheExactId) {
  std::string bob = digestFor("bob:pw");
  AclList acl{ACL{perms::kAll, Id{"digest", bob}}};
  std::vector<Id> anonymous{kLocal};
  std::vector<Id> asBob{kLocal, Id{"digest", bob}};
  std::vector<Id> asEve{kLocal, Id{"digest", digestFor("eve:pw")}};
  EXPECT_FALSE(permitted(acl, perms::kRead, anonymous, false));
  EXPECT_TRUE(permitted(acl, perms::kRead, asBob, false));
  EXPECT_FALSE(permitted(acl, perms::kRead, asEve, false));
  // An ACL naming "auth" or "super" matches nobody (they have no provider).
  AclList weird{ACL{perms::kAll, Id{"super", ""}}, ACL{perms::kAll, Id{"auth", ""}}};
  EXPECT_FALSE(permitted(weird, perms::kRead, std::vector<Id>{kLocal, Id{"super", ""}}, false));
}

TEST(AclCheck, SaslIdsMatchExactlyAndTheSaslSuperUserMatchesAll) {
  AclList acl{ACL{perms::kAll, Id{"sasl", "bob"}}};
  EXPECT_TRUE(permitted(acl, perms::kRead, std::vector<Id>{kLocal, Id{"sasl", "bob"}}, false));
  EXPECT_FALSE(permitted(acl, perms::kRead, std::vector<Id>{kLocal, Id{"sasl", "bo"}}, false));
  EXPECT_FALSE(permitted(acl, perms::kRead, std::vector<Id>{kLocal, Id{"digest", "bob"}}, false));
  EXPECT_TRUE(permitted(acl, perms::kRead, std::vector<Id>{kLocal, Id{"sasl", "super"}}, false));
  // Valid as ZooKeeper's KerberosName parses them.
  EXPECT_TRUE(validId("sasl", "bob"));
  EXPECT_TRUE(validId("sasl", "client@R.EXAMPLE"));
  EXPECT_TRUE(validId("sasl", "zk/host@R"));
  EXPECT_FALSE(validId("sasl", "a@b@c"));
  EXPECT_FALSE(validId("sasl", "a/b/c@R"));
}

TEST(AclCheck, IpMatchesWithPrefixLengths) {
  EXPECT_TRUE(ipMatches("10.1.2.3", "10.0.0.0/8"));
  EXPECT_FALSE(ipMatches("11.1.2.3", "10.0.0.0/8"));
  EXPECT_TRUE(ipMatches("192.168.1.77", "192.168.1.64/26"));
  EXPECT_FALSE(ipMatches("192.168.1.128", "192.168.1.64/26"));
  EXPECT_TRUE(ipMatches("127.0.0.1", "127.0.0.1"));
  EXPECT_FALSE(ipMatches("127.0.0.2", "127.0.0.1"));
  EXPECT_TRUE(ipMatches("1.2.3.4", "0.0.0.0/0"));
  EXPECT_FALSE(ipMatches("10.0.0.1", "10.0.0.0/33"));
  EXPECT_TRUE(ipMatches("fe80::1%eth0", "fe80::/10"));
  EXPECT_TRUE(ipMatches("0:0:0:0:0:0:0:1", "::1"));
  EXPECT_FALSE(ipMatches("::2", "::1/128"));
  EXPECT_FALSE(ipMatches("::1", "127.0.0.1"));
  AclList acl{ACL{perms::kRead, Id{"ip", "127.0.0.0/8"}}};
  EXPECT_TRUE(permitted(acl, perms::kRead, std::vector<Id>{kLocal}, false));
  EXPECT_FALSE(permitted(acl, perms::kRead, std::vector<Id>{Id{"ip", "10.0.0.1"}}, false));
}

TEST(AclFixup, ExpandsAuthToAuthenticatedIds) {
  std::string bob = digestFor("bob:pw");
  std::vector<Id> ids{kLocal, Id{"digest", bob}};
  AclList out = fixupAcl({ACL{perms::kAll, Id{"auth", ""}}}, ids);
  EXPECT_EQ(out, (AclList{ACL{perms::kAll, Id{"digest", bob}}}));
  try {
    fixupAcl({ACL{perms::kAll, Id{"auth", ""}}}, std::vector<Id>{kLocal, Id{"super", ""}});
    FAIL() << "auth without an authenticated id must be InvalidACL";
  } catch (const KeeperError& e) {
    EXPECT_EQ(e.code, Err::kInvalidACL);
  }
}

TEST(AclFixup, DedupesAndValidates) {
  std::vector<Id> ids{kLocal};
  ACL world{perms::kAll, Id{"world", "anyone"}};
  EXPECT_EQ(fixupAcl({world, world}, ids), AclList{world});
  EXPECT_EQ(fixupAcl({ACL{perms::kRead, Id{"ip", "10.0.0.0/8"}}}, ids).size(), 1u);
  EXPECT_EQ(fixupAcl({ACL{perms::kRead, Id{"digest", "u:hash"}}}, ids).size(), 1u);
  for (const AclList& bad : std::vector<AclList>{
           {},
           {ACL{perms::kAll, Id{"world", "someone"}}},
           {ACL{perms::kAll, Id{"digest", "nohash"}}},
           {ACL{perms::kAll, Id{"digest", "a:b:c"}}},
           {ACL{perms::kAll, Id{"ip", "10.0.0"}}},
           {ACL{perms::kAll, Id{"ip", "10.0.0.256"}}},
           {ACL{perms::kAll, Id{"ip", "10.0.0.0/40"}}},
           {ACL{perms::kAll, Id{"nosuch", "x"}}},
           {world, ACL{perms::kAll, Id{"super", ""}}},
       }) {
    EXPECT_THROW(fixupAcl(bad, ids), KeeperError);
  }
}

}  // namespace
}  // namespace zk

// referencedObjects: the Secrets and ConfigMaps whose change must queue a cluster at once.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "backends/members/secret_refs.h"
#include "model/zk_cluster.h"
#include "operator_spec_test_util.h"

namespace zk::op {
namespace {

ZkCluster parse(const std::string& spec) {
  return clusterWithSpec(spec);
}

using Names = std::set<std::string>;

TEST(ReferencedObjects, WithoutASuperUserSecretTheGeneratedOneIsWatched) {
  ReferencedObjects refs = referencedObjects(parse("  voters: 3\n"));
  EXPECT_EQ(refs.secrets, Names{"zk-super"});
  EXPECT_TRUE(refs.configMaps.empty());
}

TEST(ReferencedObjects, AuthNamesEveryPasswordTheKeytabAndKrb5Conf) {
  ZkCluster sasl = parse(
      "  superUserSecret: {name: admin}\n  auth:\n    sasl:\n      users:\n"
      "      - {name: alice, passwordSecretRef: {name: zk-alice}}\n"
      "      - {name: bob, passwordSecretRef: {name: zk-bob, key: pw}}\n");
  EXPECT_EQ(referencedObjects(sasl).secrets, (Names{"admin", "zk-alice", "zk-bob"}));
  ZkCluster quorum =
      parse("  auth:\n    quorum: {enabled: true, passwordSecretRef: {name: zk-q}}\n");
  EXPECT_TRUE(referencedObjects(quorum).secrets.contains("zk-q"));

  ZkCluster kerberos = parse(
      "  auth:\n    kerberos:\n      principal: \"zookeeper/{host}@EXAMPLE.COM\"\n"
      "      keytabSecretRef: {name: zk-keytab}\n      krb5ConfigRef: {name: krb5}\n");
  ReferencedObjects refs = referencedObjects(kerberos);
  EXPECT_TRUE(refs.secrets.contains("zk-keytab"));
  EXPECT_EQ(refs.configMaps, Names{"krb5"});
}

TEST(ReferencedObjects, TlsNamesTheUsersSecretsNotTheOperatorsOwn) {
  EXPECT_EQ(referencedObjects(parse("  tls: {client: \"on\"}\n")).secrets, Names{"zk-super"});
  EXPECT_TRUE(referencedObjects(parse("  tls:\n    client: both\n    caSecretRef: {name: my-ca}\n"))
                  .secrets.contains("my-ca"));
  EXPECT_TRUE(referencedObjects(parse("  tls:\n    client: \"on\"\n    secretRef: {name: mine}\n"))
                  .secrets.contains("mine"));
}

TEST(ReferencedObjects, PerMemberSecretsCoverMembersStillLeaving) {
  ZkCluster c = parse(
      "  voters: 3\n  observers: 1\n  tls:\n    client: \"on\"\n"
      "    secretRef: {name: mine, perMember: true}\n");
  c.status.voters = 5;  // a scale-down from 5 still under way
  Names secrets = referencedObjects(c).secrets;
  for (const char* member : {"zk-0", "zk-1", "zk-2", "zk-3", "zk-4"}) {
    EXPECT_TRUE(secrets.contains(std::string("mine-") + member)) << member;
  }
  EXPECT_FALSE(secrets.contains("mine"));
  EXPECT_EQ(secrets.size(), 1u + 5 + 1);  // the super Secret, five voters, one observer
}

TEST(ReferencedObjects, CertManagerSecretsAreTheMembersCertificates) {
  ZkCluster c = parse("  voters: 3\n  tls:\n    client: \"on\"\n    issuerRef: {name: ca}\n");
  Names secrets = referencedObjects(c).secrets;
  EXPECT_TRUE(secrets.contains("zk-0-tls"));
  EXPECT_TRUE(secrets.contains("zk-2-tls"));
}

}  // namespace
}  // namespace zk::op

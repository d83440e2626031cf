// The operator's certificates, parsed back with OpenSSL: names, validity, the chain to the CA.
#include <gtest/gtest.h>

#include <algorithm>

#include "render/certificates.h"

namespace zk::op {
namespace {

constexpr std::int64_t kNow = 1'800'000'000;
constexpr std::int64_t kDay = 24 * 3600;

ZkCluster cluster() {
  return parseZkClusterYaml(
      "apiVersion: zookube.dev/v1alpha1\nkind: ZkCluster\nmetadata:\n  name: zk\n"
      "  namespace: prod\nspec:\n  tls:\n    client: both\n    duration: 2400h\n");
}

bool contains(const std::vector<std::string>& all, const std::string& one) {
  return std::find(all.begin(), all.end(), one) != all.end();
}

TEST(OperatorCertificates, CaIsSelfSignedForItsLifetime) {
  KeyPair ca = issueCa("zk CA", kNow, 3650 * kDay);
  CertificateInfo info = inspectCertificate(ca.certPem);
  EXPECT_EQ(info.subject, "CN=zk CA");
  EXPECT_EQ(info.notBefore, kNow);
  EXPECT_EQ(info.notAfter, kNow + 3650 * kDay);
  EXPECT_TRUE(verifiesAgainst(ca.certPem, ca.certPem, kNow + kDay));
  EXPECT_EQ(info.sha256Fingerprint.size(), 32u * 3 - 1);
}

TEST(OperatorCertificates, MemberCertificateCoversEveryNameAndChainsToTheCa) {
  ZkCluster c = cluster();
  KeyPair ca = issueCa("zk CA", kNow, 3650 * kDay);
  Member m = voterMember(c, 1);
  KeyPair leaf = issueCertificate(memberCertificateRequest(c, m, "cluster.local", kNow), ca);
  CertificateInfo info = inspectCertificate(leaf.certPem);
  EXPECT_EQ(info.subject, "CN=zk-1.zk-headless");
  for (const char* name :
       {"zk-1.zk-headless", "zk-1.zk-headless.prod.svc", "zk-1.zk-headless.prod.svc.cluster.local",
        "zk-client", "zk-client.prod", "zk-client.prod.svc.cluster.local", "localhost"}) {
    EXPECT_TRUE(contains(info.dnsNames, name)) << name;
  }
  EXPECT_TRUE(contains(info.ipAddresses, "127.0.0.1"));
  EXPECT_EQ(info.notAfter - info.notBefore, 100 * kDay);
  EXPECT_TRUE(verifiesAgainst(leaf.certPem, ca.certPem, kNow + kDay));
  EXPECT_FALSE(verifiesAgainst(leaf.certPem, ca.certPem, kNow + 101 * kDay));  // expired
  KeyPair other = issueCa("other CA", kNow, 3650 * kDay);
  EXPECT_FALSE(verifiesAgainst(leaf.certPem, other.certPem, kNow + kDay));
  EXPECT_NE(leaf.keyPem.find("BEGIN PRIVATE KEY"), std::string::npos);
}

TEST(OperatorCertificates, NeverOutlivesTheCa) {
  ZkCluster c = cluster();
  KeyPair ca = issueCa("zk CA", kNow, 10 * kDay);
  KeyPair leaf = issueCertificate(operatorCertificateRequest(c, kNow), ca);
  EXPECT_EQ(inspectCertificate(leaf.certPem).notAfter, kNow + 10 * kDay);
}

TEST(OperatorCertificates, RenewalIsDueInTheLastThirdByDefault) {
  ZkCluster c = cluster();
  CertificateInfo info{"CN=x", kNow, kNow + 90 * kDay, {}, {}, ""};
  EXPECT_EQ(c.spec.tls.renewBeforeSeconds, 800 * 3600);
  EXPECT_FALSE(renewalDue(info, kNow + 59 * kDay, 30 * kDay));
  EXPECT_TRUE(renewalDue(info, kNow + 60 * kDay, 30 * kDay));
  EXPECT_TRUE(renewalDue(info, kNow + 91 * kDay, 30 * kDay));
}

TEST(OperatorCertificates, KeystoresAreReissuedOnlyWhenDue) {
  ZkCluster c = cluster();
  KeyPair ca = issueCa("zk CA", kNow, 3650 * kDay);
  std::vector<Member> ms = members(c, {3, 0});
  StringMap first = memberKeystores(c, ms, ca, {}, kNow, "cluster.local");
  ASSERT_EQ(first.size(), 4u);
  EXPECT_EQ(first.at("ca.crt"), ca.certPem);
  EXPECT_TRUE(verifiesAgainst(first.at("zk-2.pem"), ca.certPem, kNow));
  EXPECT_NE(first.at("zk-2.pem").find("PRIVATE KEY-----\n-----BEGIN CERTIFICATE"),
            std::string::npos);  // key, then certificate: zookube's PEM keystore
  // Before the window nothing changes; inside it (duration 100 days, renew 33) all are new.
  EXPECT_EQ(memberKeystores(c, ms, ca, first, kNow + 60 * kDay, "cluster.local"), first);
  StringMap renewed = memberKeystores(c, ms, ca, first, kNow + 70 * kDay, "cluster.local");
  EXPECT_NE(renewed.at("zk-0.pem"), first.at("zk-0.pem"));
  EXPECT_EQ(inspectCertificate(renewed.at("zk-0.pem")).notBefore, kNow + 70 * kDay);
  // A new CA reissues every keystore.
  KeyPair other = issueCa("new CA", kNow, 3650 * kDay);
  StringMap moved = memberKeystores(c, ms, other, first, kNow, "cluster.local");
  EXPECT_TRUE(verifiesAgainst(moved.at("zk-1.pem"), other.certPem, kNow));
}

TEST(OperatorCertificates, ACertificateIsKeptOnlyWhileItChainsToTheCaAndIsNotDue) {
  ZkCluster c = cluster();
  KeyPair ca = issueCa("zk CA", kNow, 3650 * kDay);
  KeyPair other = issueCa("other CA", kNow, 3650 * kDay);
  KeyPair leaf = issueCertificate(operatorCertificateRequest(c, kNow), ca);
  EXPECT_TRUE(keepsCertificate(leaf.certPem, ca.certPem, kNow, 30 * kDay));
  EXPECT_FALSE(keepsCertificate(leaf.certPem, other.certPem, kNow, 30 * kDay));
  EXPECT_FALSE(keepsCertificate(leaf.certPem, ca.certPem, kNow + 71 * kDay, 30 * kDay));
  EXPECT_FALSE(keepsCertificate("", ca.certPem, kNow, 30 * kDay));
  EXPECT_FALSE(keepsCertificate("not a certificate", ca.certPem, kNow, 30 * kDay));
}

TEST(OperatorCertificates, GarbageIsRefused) {
  EXPECT_THROW(inspectCertificate("not a certificate"), CertificateError);
}

}  // namespace
}  // namespace zk::op

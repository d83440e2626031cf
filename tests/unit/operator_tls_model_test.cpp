// spec.tls: the CRD's rules, applied by the model so local mode refuses what the API server would.
#include <gtest/gtest.h>

#include <algorithm>

#include "model/zk_cluster.h"
#include "render/render.h"

namespace zk::op {
namespace {

ZkCluster parse(const std::string& tls) {
  return parseZkClusterYaml(
      "apiVersion: zookube.dev/v1alpha1\nkind: ZkCluster\nmetadata:\n  name: zk\nspec:\n  tls:\n" +
      tls);
}

std::vector<std::string> errorsOf(const std::string& tls) {
  try {
    parse(tls);
  } catch (const SpecError& e) {
    return e.errors();
  }
  return {};
}

bool hasError(const std::string& tls, const std::string& text) {
  auto errors = errorsOf(tls);
  return std::find(errors.begin(), errors.end(), text) != errors.end();
}

TEST(OperatorTlsModel, DefaultsToOperatorIssuedCertificates) {
  ZkCluster c = parse("    client: both\n");
  EXPECT_EQ(c.spec.tls.client, ClientTls::kBoth);
  EXPECT_EQ(c.spec.tls.clientAuth, ClientAuth::kNeed);
  EXPECT_EQ(c.spec.tls.source, CertificateSource::kOperator);
  EXPECT_EQ(c.spec.tls.renewBeforeSeconds, c.spec.tls.durationSeconds / 3);
  EXPECT_EQ(c.spec.ports.secureClient, 2281);
  EXPECT_FALSE(parseZkClusterYaml("apiVersion: zookube.dev/v1alpha1\nkind: ZkCluster\n"
                                  "metadata:\n  name: zk\nspec: {}\n")
                   .spec.tls.enabled());
}

TEST(OperatorTlsModel, ReadsEverySource) {
  ZkCluster cm = parse(
      "    client: on\n    clientAuth: want\n    issuerRef:\n      name: ca\n"
      "      kind: ClusterIssuer\n    duration: 720h\n    renewBefore: 240h\n");
  EXPECT_EQ(cm.spec.tls.client, ClientTls::kOn);
  EXPECT_EQ(cm.spec.tls.clientAuth, ClientAuth::kWant);
  EXPECT_EQ(cm.spec.tls.source, CertificateSource::kCertManager);
  EXPECT_EQ(cm.spec.tls.issuerRef->kind, "ClusterIssuer");
  EXPECT_EQ(cm.spec.tls.durationSeconds, 720 * 3600);
  EXPECT_EQ(cm.spec.tls.renewBeforeSeconds, 240 * 3600);
  ZkCluster user = parse("    client: \"on\"\n    secretRef: {name: mine}\n");
  EXPECT_EQ(user.spec.tls.source, CertificateSource::kSecret);
  EXPECT_EQ(user.spec.tls.secretName, "mine");
  ZkCluster ca = parse("    client: both\n    caSecretRef: {name: my-ca}\n");
  EXPECT_EQ(ca.spec.tls.caSecretName, "my-ca");
}

TEST(OperatorTlsModel, ErrorsNameTheField) {
  EXPECT_TRUE(hasError("    client: maybe\n",
                       "spec.tls.client: must be one of off, both, on, got \"maybe\""));
  EXPECT_TRUE(
      hasError("    clientAuth: need\n", "spec.tls.clientAuth: needs tls.client both or on"));
  EXPECT_TRUE(hasError("    client: on\n    issuerRef: {name: a}\n    secretRef: {name: b}\n",
                       "spec.tls: name at most one certificate source: issuer, issuerRef or "
                       "secretRef"));
  EXPECT_TRUE(hasError("    client: on\n    secretRef: {name: b}\n    caSecretRef: {name: c}\n",
                       "spec.tls.caSecretRef: applies only to issuer: operator"));
  EXPECT_TRUE(hasError("    client: on\n    issuerRef: {name: a, kind: Vault}\n",
                       "spec.tls.issuerRef.kind: must be Issuer or ClusterIssuer, got \"Vault\""));
  EXPECT_TRUE(hasError("    client: on\n    duration: 1y\n",
                       "spec.tls.duration: must be a duration such as 8760h or 90m, got \"1y\""));
  EXPECT_TRUE(hasError("    client: on\n    duration: 10h\n    renewBefore: 10h\n",
                       "spec.tls.renewBefore: must be shorter than duration"));
  EXPECT_TRUE(hasError("    client: off\n    quorum: true\n",
                       "spec.tls.quorum: needs tls.client both or on"));
  EXPECT_TRUE(
      hasError("    client: on\n    quorum: yes please\n", "spec.tls.quorum: must be a boolean"));
}

TEST(OperatorTlsModel, DurationsAreGoDurations) {
  EXPECT_EQ(parseDuration("1h30m"), 5400);
  EXPECT_EQ(parseDuration("45s"), 45);
  EXPECT_FALSE(parseDuration(""));
  EXPECT_FALSE(parseDuration("5d"));
}

}  // namespace
}  // namespace zk::op

namespace zk::op {
namespace {

bool hasLine(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

TEST(OperatorTlsRender, BothUnifiesTheClientPort) {
  ZkCluster c = parse("    client: both\n    clientAuth: want\n");
  std::string cfg = renderZooCfg(c, voterMember(c, 0), {3, 0}, Addressing::kubernetes());
  EXPECT_TRUE(hasLine(cfg, "clientPort=2181"));
  EXPECT_TRUE(hasLine(cfg, "client.portUnification=true"));
  EXPECT_TRUE(hasLine(cfg, "ssl.keyStore.location=/etc/zookube/tls/zk-0.pem"));
  EXPECT_TRUE(hasLine(cfg, "ssl.keyStore.type=PEM"));
  EXPECT_TRUE(hasLine(cfg, "ssl.trustStore.location=/etc/zookube/tls/ca.crt"));
  EXPECT_TRUE(hasLine(cfg, "ssl.clientAuth=want"));
  EXPECT_TRUE(hasLine(cfg, "serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory"));
  EXPECT_TRUE(hasLine(cfg, "secureClientPort=2281"));
}

TEST(OperatorTlsRender, OnLeavesOnlyTheSecurePort) {
  ZkCluster c = parse("    client: \"on\"\n");
  Addressing local = Addressing::local("/state/members");
  std::string cfg = renderZooCfg(c, voterMember(c, 1), {3, 0}, local);
  EXPECT_TRUE(hasLine(cfg, "secureClientPort=2282"));
  EXPECT_TRUE(hasLine(cfg, "secureClientPortAddress=127.0.0.1"));
  EXPECT_TRUE(hasLine(cfg, "ssl.keyStore.location=/state/members/zk-1/tls/zk-1.pem"));
  EXPECT_EQ(cfg.find("clientPort="), std::string::npos);
  EXPECT_EQ(cfg.find("portUnification"), std::string::npos);
  // No client port on the server lines either: ZooKeeper would take it as clientPort.
  EXPECT_TRUE(hasLine(cfg, "server.2=127.0.0.1:2889:3889:participant"));
}

TEST(OperatorTlsRender, ModeChangesRollButCertificatesDoNot) {
  ZkCluster off = parse("    client: \"off\"\n");
  ZkCluster both = parse("    client: both\n");
  ZkCluster on = parse("    client: \"on\"\n");
  Addressing k = Addressing::kubernetes();
  EXPECT_NE(rolloutHash(off, k), rolloutHash(both, k));
  EXPECT_NE(rolloutHash(both, k), rolloutHash(on, k));
  ZkCluster plain = parseZkClusterYaml(
      "apiVersion: zookube.dev/v1alpha1\nkind: ZkCluster\nmetadata:\n  name: zk\nspec: {}\n");
  EXPECT_EQ(rolloutHash(off, k), rolloutHash(plain, k));
}

}  // namespace
}  // namespace zk::op

// spec.tls.quorum: the zoo.cfg of each stage, and the planner walking a running ensemble through
// ZooKeeper's three rolling steps (and back), each only once every member is back in sync.
#include <gtest/gtest.h>

#include "model/zk_cluster.h"
#include "operator_plan_test_util.h"
#include "plan/quorum_tls_migration.h"

namespace zk::op {
namespace {

using namespace zk::op::testing;

ZkCluster tlsCluster(bool quorum, QuorumTlsStage stage) {
  ZkCluster c = makeCluster(3, 1);
  c.spec.tls.client = ClientTls::kBoth;
  c.spec.tls.quorum = quorum;
  c.status.quorumTls.stage = stage;
  return c;
}

TEST(OperatorQuorumTls, EachStageRendersZooKeepersKeysWithTheMembersOwnKeystore) {
  ZkCluster c = tlsCluster(true, QuorumTlsStage::kPlaintext);
  EXPECT_EQ(cfgOf(c).find("sslQuorum"), std::string::npos);
  EXPECT_EQ(cfgOf(c).find("\nportUnification"), std::string::npos);
  c.status.quorumTls.stage = QuorumTlsStage::kPortUnification;
  std::string cfg = cfgOf(c);
  EXPECT_TRUE(hasLine(cfg, "portUnification=true")) << cfg;
  EXPECT_TRUE(hasLine(cfg, "sslQuorum=false")) << cfg;
  EXPECT_TRUE(hasLine(cfg, "sslQuorumReloadCertFiles=true")) << cfg;
  EXPECT_TRUE(hasLine(cfg, "ssl.quorum.keyStore.location=/etc/zookube/tls/zk-0.pem")) << cfg;
  EXPECT_TRUE(hasLine(cfg, "ssl.quorum.trustStore.location=/etc/zookube/tls/ca.crt")) << cfg;
  EXPECT_TRUE(hasLine(cfg, "ssl.quorum.keyStore.type=PEM")) << cfg;
  c.status.quorumTls.stage = QuorumTlsStage::kTlsUnified;
  EXPECT_TRUE(hasLine(cfgOf(c), "portUnification=true"));
  EXPECT_TRUE(hasLine(cfgOf(c), "sslQuorum=true"));
  c.status.quorumTls.stage = QuorumTlsStage::kTls;
  EXPECT_TRUE(hasLine(cfgOf(c), "portUnification=false"));
  EXPECT_TRUE(hasLine(cfgOf(c), "sslQuorum=true"));
}

TEST(OperatorQuorumTls, EveryStageHasItsOwnRolloutHash) {
  std::set<std::string> hashes;
  for (auto stage : {QuorumTlsStage::kPlaintext, QuorumTlsStage::kPortUnification,
                     QuorumTlsStage::kTlsUnified, QuorumTlsStage::kTls}) {
    hashes.insert(hashOf(tlsCluster(true, stage)));
  }
  EXPECT_EQ(hashes.size(), 4u);
}

TEST(OperatorQuorumTls, ANewEnsembleStartsWithTlsOnlyAndNoMigration) {
  ZkCluster c = tlsCluster(true, QuorumTlsStage::kPlaintext);
  c.status = {};
  EXPECT_TRUE(hasLine(cfgOf(c), "sslQuorum=true"));
  EXPECT_TRUE(hasLine(cfgOf(c), "portUnification=false"));
  Plan p = pass(c, Observed{});
  EXPECT_EQ(p.status.quorumTls.stage, QuorumTlsStage::kTls);
  EXPECT_EQ(p.status.quorumTls.migration, "");
  EXPECT_FALSE(hasEvent(p, "QuorumTLSStep"));
}

TEST(OperatorQuorumTls, EnablingWalksThreeRollsOneStepAtATime) {
  ZkCluster c = tlsCluster(true, QuorumTlsStage::kPlaintext);
  const QuorumTlsStage steps[] = {QuorumTlsStage::kPortUnification, QuorumTlsStage::kTlsUnified,
                                  QuorumTlsStage::kTls};
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    std::string before = hashOf(c);
    // Step i+1 begins only from settled members: the status moves, nothing restarts yet.
    Plan p = pass(c, settled(c));
    EXPECT_EQ(p.status.quorumTls.stage, steps[i]);
    EXPECT_EQ(p.status.quorumTls.migration.substr(0, 19),
              "enabling, step " + std::to_string(i + 1) + " of");
    EXPECT_TRUE(hasEvent(p, "QuorumTLSStep"));
    EXPECT_TRUE(restarts(p).empty());
    EXPECT_EQ(p.status.phase, "Rolling");
    // The next pass sees a new target and rolls: the observer first, the leader last.
    EXPECT_NE(hashOf(c), before);
    Observed old = healthy(c, before);
    p = pass(c, old);
    EXPECT_EQ(restarts(p), std::vector<std::string>{"zk-observer-0"});
    EXPECT_EQ(p.status.quorumTls.stage, steps[i]);
    EXPECT_EQ(p.status.quorumTls.migration.substr(0, 19),
              "enabling, step " + std::to_string(i + 1) + " of");
  }
  // Once the last roll is done the migration is over.
  Plan done = pass(c, settled(c));
  EXPECT_EQ(done.status.quorumTls.stage, QuorumTlsStage::kTls);
  EXPECT_EQ(done.status.quorumTls.migration, "");
  EXPECT_TRUE(hasEvent(done, "QuorumTLSEnabled"));
  EXPECT_EQ(done.status.phase, "Running");
  EXPECT_FALSE(hasEvent(pass(c, settled(c)), "QuorumTLSEnabled"));  // said once
}

TEST(OperatorQuorumTls, NoStepWhileAMemberIsOutOfSync) {
  ZkCluster c = tlsCluster(true, QuorumTlsStage::kPortUnification);
  Observed o = settled(c);
  find(o, "zk-2").ready = false;
  Plan p = pass(c, o);
  EXPECT_EQ(p.status.quorumTls.stage, QuorumTlsStage::kPortUnification);
  EXPECT_NE(p.status.quorumTls.migration.find("waiting for every member to be in sync"),
            std::string::npos);
  EXPECT_FALSE(hasEvent(p, "QuorumTLSStep"));
  // A scaling under way holds it too.
  c = tlsCluster(true, QuorumTlsStage::kPortUnification);
  o = settled(c);
  c.spec.voters = 5;
  EXPECT_EQ(pass(c, o).status.quorumTls.stage, QuorumTlsStage::kPortUnification);
}

TEST(OperatorQuorumTls, DisablingGoesBackTheSameWay) {
  ZkCluster c = tlsCluster(false, QuorumTlsStage::kTls);
  Plan p = pass(c, settled(c));
  EXPECT_EQ(p.status.quorumTls.stage, QuorumTlsStage::kTlsUnified);
  EXPECT_EQ(p.status.quorumTls.migration.substr(0, 20), "disabling, step 1 of");
  p = pass(c, settled(c));
  EXPECT_EQ(p.status.quorumTls.stage, QuorumTlsStage::kPortUnification);
  p = pass(c, settled(c));
  EXPECT_EQ(p.status.quorumTls.stage, QuorumTlsStage::kPlaintext);
  EXPECT_EQ(p.status.quorumTls.migration.substr(0, 20), "disabling, step 3 of");
  p = pass(c, settled(c));
  EXPECT_TRUE(hasEvent(p, "QuorumTLSDisabled"));
  EXPECT_EQ(cfgOf(c).find("sslQuorum"), std::string::npos);
}

TEST(OperatorQuorumTls, StepsAreAdjacentAndNamed) {
  using S = QuorumTlsStage;
  EXPECT_EQ(nextQuorumTlsStage(S::kPortUnification, S::kPlaintext), S::kPlaintext);
  EXPECT_EQ(nextQuorumTlsStage(S::kTls, S::kTls), S::kTls);
  EXPECT_EQ(parseQuorumTlsStage(quorumTlsStageName(S::kTlsUnified)), S::kTlsUnified);
  EXPECT_EQ(parseQuorumTlsStage("nope"), std::nullopt);
}

TEST(OperatorQuorumTls, TheStatusRoundTripsAndTheSpecIsChecked) {
  ZkClusterStatus s;
  s.quorumTls = {QuorumTlsStage::kTlsUnified, "enabling, step 2 of 3: x"};
  EXPECT_EQ(parseStatus(toJson(s)).quorumTls, s.quorumTls);
  auto manifest = [](const std::string& tls, const std::string& status) {
    return "apiVersion: zookube.dev/v1alpha1\nkind: ZkCluster\nmetadata:\n  name: zk\n"
           "spec:\n  tls: " +
           tls + "\n" + status;
  };
  EXPECT_TRUE(parseZkClusterYaml(manifest("{client: on, quorum: true}", "")).spec.tls.quorum);
  EXPECT_THROW(parseZkClusterYaml(manifest("{quorum: true}", "")), SpecError);
  // Turning client TLS off would unmount the quorum's certificates before it is plaintext again.
  EXPECT_THROW(parseZkClusterYaml(
                   manifest("{client: off}", "status:\n  voters: 3\n  quorumTLS: {stage: TLS}\n")),
               SpecError);
  EXPECT_NO_THROW(parseZkClusterYaml(
      manifest("{client: off}", "status:\n  voters: 3\n  quorumTLS: {stage: Plaintext}\n")));
}

}  // namespace
}  // namespace zk::op

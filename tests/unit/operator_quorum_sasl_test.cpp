// spec.auth.quorum: the zoo.cfg and JAAS sections of each stage, the stage machine, and the
// planner walking a running ensemble through ZooKeeper's three rolling steps (and back), each
// only once every member is back in sync and never in the same roll as a quorum TLS step.
#include <gtest/gtest.h>

#include <set>

#include "model/zk_cluster.h"
#include "operator_plan_test_util.h"
#include "plan/quorum_sasl_migration.h"
#include "sasl/jaas.h"
#include "sasl/sasl_client.h"
#include "sasl/sasl_server.h"

namespace zk::op {
namespace {

using namespace zk::op::testing;
using S = QuorumSaslStage;

ZkCluster saslCluster(bool enabled, S stage) {
  ZkCluster c = makeCluster(3, 1);
  c.spec.auth.quorum.enabled = enabled;
  c.status.quorumSasl.stage = stage;
  if (stage != S::kOff) c.status.quorumSasl.mechanism = "DIGEST-MD5";
  return c;
}

TEST(OperatorQuorumSasl, EachStageRendersZooKeepersKeysAndNamesTheJaasFile) {
  ZkCluster c = saslCluster(true, S::kOff);
  EXPECT_EQ(cfgOf(c).find("quorum.auth"), std::string::npos);
  EXPECT_EQ(cfgOf(c).find("java.security.auth.login.config"), std::string::npos);
  c.status.quorumSasl.stage = S::kEnabled;
  std::string cfg = cfgOf(c);
  EXPECT_TRUE(hasLine(cfg, "quorum.auth.enableSasl=true")) << cfg;
  EXPECT_TRUE(hasLine(cfg, "quorum.auth.learnerRequireSasl=false")) << cfg;
  EXPECT_TRUE(hasLine(cfg, "quorum.auth.serverRequireSasl=false")) << cfg;
  EXPECT_TRUE(hasLine(cfg, "java.security.auth.login.config=/etc/zookube-super/jaas.conf")) << cfg;
  // Quorum SASL alone is no client SASL: no provider, and no servicePrincipal for DIGEST-MD5.
  EXPECT_EQ(cfg.find("authProvider.sasl"), std::string::npos) << cfg;
  EXPECT_EQ(cfg.find("servicePrincipal"), std::string::npos) << cfg;
  c.status.quorumSasl.stage = S::kLearnerRequired;
  EXPECT_TRUE(hasLine(cfgOf(c), "quorum.auth.learnerRequireSasl=true"));
  EXPECT_TRUE(hasLine(cfgOf(c), "quorum.auth.serverRequireSasl=false"));
  c.status.quorumSasl.stage = S::kServerRequired;
  EXPECT_TRUE(hasLine(cfgOf(c), "quorum.auth.learnerRequireSasl=true"));
  EXPECT_TRUE(hasLine(cfgOf(c), "quorum.auth.serverRequireSasl=true"));
}

TEST(OperatorQuorumSasl, EveryStageHasItsOwnRolloutHash) {
  std::set<std::string> hashes;
  for (S stage : {S::kOff, S::kEnabled, S::kLearnerRequired, S::kServerRequired}) {
    hashes.insert(hashOf(saslCluster(true, stage)));
  }
  EXPECT_EQ(hashes.size(), 4u);
}

// What the members read, checked by the server's own JAAS reading: the QuorumServer section
// accepts the learner's user and password, with quotes and backslashes escaped.
TEST(OperatorQuorumSasl, TheDigestSectionsAreWhatTheServerReads) {
  jaas::Configuration j = jaas::parse(renderQuorumDigestJaas("p\"w\\d"));
  sasl::Settings server = sasl::settingsFrom(j, "QuorumServer");
  EXPECT_EQ(server.mechanism, "DIGEST-MD5");
  ASSERT_EQ(server.users.count(kQuorumSaslUser), 1u);
  EXPECT_EQ(server.users.at(kQuorumSaslUser), "p\"w\\d");
  sasl::ClientSettings learner = sasl::clientSettingsFrom(j, "QuorumLearner");
  EXPECT_EQ(learner.mechanism, "DIGEST-MD5");
  EXPECT_EQ(learner.username, kQuorumSaslUser);
  EXPECT_EQ(learner.password, "p\"w\\d");
  // Beside the client port's Server section, as the members' Secret holds both.
  jaas::Configuration both =
      jaas::parse(renderJaas({{"alice", "a"}}) + renderQuorumDigestJaas("q"));
  EXPECT_EQ(sasl::settingsFrom(both, "Server").users.at("alice"), "a");
  EXPECT_EQ(sasl::settingsFrom(both, "QuorumServer").users.at(kQuorumSaslUser), "q");
}

// Whether the members' JAAS file gets the DIGEST-MD5 sections: while the rendered stage is not
// Off (also while leaving it), and never with Kerberos, whose members use their own keys.
TEST(OperatorQuorumSasl, DigestSectionsFollowTheRenderedStageWithoutKerberos) {
  EXPECT_FALSE(rendersQuorumDigest(saslCluster(true, S::kOff)));
  EXPECT_TRUE(rendersQuorumDigest(saslCluster(true, S::kEnabled)));
  EXPECT_TRUE(rendersQuorumDigest(saslCluster(false, S::kLearnerRequired)));
  ZkCluster fresh = saslCluster(true, S::kOff);
  fresh.status = {};
  EXPECT_TRUE(rendersQuorumDigest(fresh));
  ZkCluster k = saslCluster(true, S::kServerRequired);
  k.spec.auth.kerberos = KerberosSpec{
      {"zk-keytab", "keytab"}, std::nullopt, "zookeeper/{host}@EXAMPLE.COM", true, true};
  EXPECT_FALSE(rendersQuorumDigest(k));
}

// With spec.auth.kerberos the members authenticate each other with their own principals: each
// member's JAAS file gets Krb5 quorum sections, zoo.cfg the service principal's _HOST form.
TEST(OperatorQuorumSasl, KerberosUsesEachMembersPrincipal) {
  ZkCluster c = saslCluster(true, S::kServerRequired);
  c.status.quorumSasl.mechanism = "GSSAPI";
  c.spec.auth.kerberos = KerberosSpec{
      {"zk-keytab", "keytab"}, std::nullopt, "zookeeper/{host}@EXAMPLE.COM", true, true};
  Member m = voterMember(c, 1);
  Addressing k8s = Addressing::kubernetes();
  std::string cfg = renderZooCfg(c, m, {3, 1}, k8s);
  EXPECT_TRUE(hasLine(cfg, "quorum.auth.kerberos.servicePrincipal=zookeeper/_HOST")) << cfg;
  EXPECT_TRUE(hasLine(cfg, "java.security.auth.login.config=/etc/zookube-super/zk-1.jaas.conf"));
  jaas::Configuration j = jaas::parse(renderKerberosJaas(c, m, k8s));
  sasl::Settings server = sasl::settingsFrom(j, "QuorumServer");
  EXPECT_EQ(server.mechanism, "GSSAPI");
  EXPECT_EQ(server.keytab, "/etc/zookube-keytab/keytab");
  EXPECT_EQ(server.serverName, endpointOf(c, m, k8s).host);
  EXPECT_TRUE(j.contains("QuorumLearner"));
  EXPECT_TRUE(j.contains("Server"));
  c.status.quorumSasl = {};
  c.spec.auth.quorum.enabled = false;
  EXPECT_FALSE(jaas::parse(renderKerberosJaas(c, m, k8s)).contains("QuorumServer"));
}

TEST(OperatorQuorumSasl, ANewEnsembleStartsRequiringItWithNoMigration) {
  ZkCluster c = saslCluster(true, S::kOff);
  c.status = {};
  EXPECT_TRUE(hasLine(cfgOf(c), "quorum.auth.serverRequireSasl=true"));
  Plan p = pass(c, Observed{});
  EXPECT_EQ(p.status.quorumSasl.stage, S::kServerRequired);
  EXPECT_EQ(p.status.quorumSasl.mechanism, "DIGEST-MD5");
  EXPECT_EQ(p.status.quorumSasl.migration, "");
  EXPECT_FALSE(hasEvent(p, "QuorumSASLStep"));
}

TEST(OperatorQuorumSasl, EnablingWalksThreeRollsOneStepAtATimeLeaderLast) {
  ZkCluster c = saslCluster(true, S::kOff);
  const S steps[] = {S::kEnabled, S::kLearnerRequired, S::kServerRequired};
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    std::string before = hashOf(c);
    Plan p = pass(c, settled(c));
    EXPECT_EQ(p.status.quorumSasl.stage, steps[i]);
    EXPECT_EQ(p.status.quorumSasl.mechanism, "DIGEST-MD5");
    EXPECT_EQ(p.status.quorumSasl.migration.substr(0, 19),
              "enabling, step " + std::to_string(i + 1) + " of");
    EXPECT_TRUE(hasEvent(p, "QuorumSASLStep"));
    EXPECT_TRUE(restarts(p).empty());
    EXPECT_EQ(p.status.phase, "Rolling");
    EXPECT_EQ(conditionOf(p.status, "Progressing").reason, "MigratingQuorumSASL");
    // The next pass rolls to it: the observer first, then the followers, the leader (zk-0) last.
    EXPECT_NE(hashOf(c), before);
    Observed o = healthy(c, before);
    std::vector<std::string> order;
    for (int n = 0; n < 4; ++n) {
      p = pass(c, o);
      ASSERT_EQ(restarts(p).size(), 1u);
      order.push_back(restarts(p)[0]);
      EXPECT_EQ(p.status.quorumSasl.stage, steps[i]);
      find(o, order.back()).rolloutHash = hashOf(c);  // back in sync on the new rendering
      find(o, order.back()).zxid += 10;
    }
    EXPECT_EQ(order, (std::vector<std::string>{"zk-observer-0", "zk-1", "zk-2", "zk-0"}));
  }
  Plan done = pass(c, settled(c));
  EXPECT_EQ(done.status.quorumSasl.stage, S::kServerRequired);
  EXPECT_EQ(done.status.quorumSasl.migration, "");
  EXPECT_TRUE(hasEvent(done, "QuorumSASLEnabled"));
  EXPECT_EQ(done.status.phase, "Running");
  EXPECT_FALSE(hasEvent(pass(c, settled(c)), "QuorumSASLEnabled"));  // said once
}

TEST(OperatorQuorumSasl, NoStepWhileAMemberIsOutOfSyncOrQuorumTlsMoves) {
  ZkCluster c = saslCluster(true, S::kEnabled);
  Observed o = settled(c);
  find(o, "zk-2").ready = false;
  Plan p = pass(c, o);
  EXPECT_EQ(p.status.quorumSasl.stage, S::kEnabled);
  EXPECT_NE(p.status.quorumSasl.migration.find("waiting for every member to be in sync"),
            std::string::npos);
  EXPECT_FALSE(hasEvent(p, "QuorumSASLStep"));
  // Both asked for at once: quorum TLS steps first, SASL waits for it to be done.
  c = saslCluster(true, S::kOff);
  c.spec.tls.client = ClientTls::kBoth;
  c.spec.tls.quorum = true;
  p = pass(c, settled(c));
  EXPECT_EQ(p.status.quorumTls.stage, QuorumTlsStage::kPortUnification);
  EXPECT_EQ(p.status.quorumSasl.stage, S::kOff);
  EXPECT_NE(p.status.quorumSasl.migration.find("waiting for the quorum TLS migration"),
            std::string::npos);
  c.status.quorumTls = {QuorumTlsStage::kTls, ""};
  p = pass(c, settled(c));
  EXPECT_EQ(p.status.quorumSasl.stage, S::kEnabled);
}

TEST(OperatorQuorumSasl, DisablingGoesBackTheSameWay) {
  ZkCluster c = saslCluster(false, S::kServerRequired);
  Plan p = pass(c, settled(c));
  EXPECT_EQ(p.status.quorumSasl.stage, S::kLearnerRequired);
  EXPECT_EQ(p.status.quorumSasl.migration.substr(0, 20), "disabling, step 1 of");
  p = pass(c, settled(c));
  EXPECT_EQ(p.status.quorumSasl.stage, S::kEnabled);
  p = pass(c, settled(c));
  EXPECT_EQ(p.status.quorumSasl.stage, S::kOff);
  EXPECT_EQ(p.status.quorumSasl.mechanism, "");
  EXPECT_EQ(p.status.quorumSasl.migration.substr(0, 20), "disabling, step 3 of");
  p = pass(c, settled(c));
  EXPECT_TRUE(hasEvent(p, "QuorumSASLDisabled"));
  EXPECT_EQ(cfgOf(c).find("quorum.auth"), std::string::npos);
}

// The stage machine on its own: a roll keeps the step it announced; a hold names its reason.
TEST(OperatorQuorumSasl, TheStageMachineStepsOnlyWhenNothingHoldsIt) {
  QuorumSaslPass pass{{S::kEnabled, "DIGEST-MD5", "enabling, step 1 of 3: x"},
                      S::kEnabled,
                      S::kServerRequired,
                      "DIGEST-MD5",
                      true,
                      ""};
  QuorumSaslDecision d = stepQuorumSasl(pass);
  EXPECT_EQ(d.status, pass.previous);
  EXPECT_TRUE(d.eventReason.empty());
  pass.rolling = false;
  pass.hold = "waiting for every member to be in sync";
  d = stepQuorumSasl(pass);
  EXPECT_EQ(d.status.stage, S::kEnabled);
  EXPECT_EQ(d.status.migration, "waiting for every member to be in sync, then " +
                                    quorumSaslStep(S::kLearnerRequired, S::kServerRequired));
  EXPECT_FALSE(d.wait.empty());
  pass.hold.clear();
  d = stepQuorumSasl(pass);
  EXPECT_EQ(d.status.stage, S::kLearnerRequired);
  EXPECT_EQ(d.eventReason, "QuorumSASLStep");
  EXPECT_EQ(nextQuorumSaslStage(S::kEnabled, S::kOff), S::kOff);
  EXPECT_EQ(nextQuorumSaslStage(S::kOff, S::kOff), S::kOff);
  EXPECT_EQ(parseQuorumSaslStage(quorumSaslStageName(S::kLearnerRequired)), S::kLearnerRequired);
  EXPECT_EQ(parseQuorumSaslStage("nope"), std::nullopt);
}

std::string manifest(const std::string& auth, const std::string& rest = "") {
  return "apiVersion: zookube.dev/v1alpha1\nkind: ZkCluster\nmetadata:\n  name: zk\n"
         "spec:\n  auth: " +
         auth + "\n" + rest;
}

TEST(OperatorQuorumSasl, TheSpecAndStatusRoundTripAndAreChecked) {
  ZkClusterStatus s;
  s.quorumSasl = {S::kLearnerRequired, "GSSAPI", "enabling, step 2 of 3: x"};
  EXPECT_EQ(parseStatus(toJson(s)).quorumSasl, s.quorumSasl);
  ZkCluster c =
      parseZkClusterYaml(manifest("{quorum: {enabled: true, passwordSecretRef: {name: zk-peer}}}"));
  EXPECT_TRUE(c.spec.auth.quorum.enabled);
  EXPECT_EQ(c.spec.auth.quorum.passwordSecretRef, (SecretKeyRef{"zk-peer", "password"}));
  EXPECT_FALSE(c.spec.auth.any());  // no client SASL
  EXPECT_EQ(parseZkCluster(web::json::value::parse(
                               "{\"apiVersion\":\"zookube.dev/v1alpha1\",\"kind\":\"ZkCluster\","
                               "\"metadata\":{\"name\":\"zk\"},\"spec\":" +
                               toJson(c.spec).serialize() + "}"))
                .spec.auth.quorum,
            c.spec.auth.quorum);
  const char* kerberos =
      "{kerberos: {keytabSecretRef: {name: kt}, principal: 'zk/{host}@R'}, "
      "quorum: {enabled: true, passwordSecretRef: {name: zk-peer}}}";
  EXPECT_THROW(parseZkClusterYaml(manifest(kerberos)), SpecError);
  EXPECT_THROW(parseZkClusterYaml(manifest("{quorum: {enabled: true}}",
                                           "  config: {quorum.auth.enableSasl: 'true'}\n")),
               SpecError);
  // Another mechanism cannot be rolled onto members that require the one they use.
  const char* withKerberos =
      "{kerberos: {keytabSecretRef: {name: kt}, principal: 'zk/{host}@R'}, "
      "quorum: {enabled: true}}";
  std::string required = "status:\n  voters: 3\n  quorumSASL: {stage: Enabled, mechanism: ";
  EXPECT_THROW(parseZkClusterYaml(manifest(withKerberos, required + "DIGEST-MD5}\n")), SpecError);
  EXPECT_NO_THROW(parseZkClusterYaml(manifest(withKerberos, required + "GSSAPI}\n")));
  EXPECT_NO_THROW(parseZkClusterYaml(
      manifest(withKerberos, "status:\n  voters: 3\n  quorumSASL: {stage: 'Off'}\n")));
}

}  // namespace
}  // namespace zk::op

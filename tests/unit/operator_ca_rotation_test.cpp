// Rotating the operator's CA (render/ca_rotation.h): the steps, when they happen, and that at no
// step can two members fail to talk, whichever of the step's files or the previous step's each
// member has loaded.
#include <gtest/gtest.h>

#include "render/ca_rotation.h"

namespace zk::op {
namespace {

constexpr std::int64_t kT0 = 1'800'000'000;

ZkCluster cluster() {
  ZkCluster c;
  c.meta.name = "zk";
  c.meta.ns = "ns";
  c.spec.tls.client = ClientTls::kOn;
  c.spec.tls.durationSeconds = 900;
  c.spec.tls.renewBeforeSeconds = 300;
  c.spec.tls.caDurationSeconds = 9000;
  c.spec.tls.caRotationStepSeconds = 60;
  return c;
}

// Every certificate of a PEM bundle.
std::vector<std::string> split(const std::string& bundle) {
  std::vector<std::string> out;
  const std::string end = "-----END CERTIFICATE-----\n";
  for (size_t from = 0, at; (at = bundle.find(end, from)) != std::string::npos;) {
    out.push_back(bundle.substr(from, at + end.size() - from));
    from = at + end.size();
  }
  return out;
}

bool trusted(const std::string& certPem, const std::string& bundle, std::int64_t now) {
  for (const std::string& ca : split(bundle)) {
    if (verifiesAgainst(certPem, ca, now)) return true;
  }
  return false;
}

struct Files {
  std::string trust;
  std::string cert;  // a member's certificate, issued from the bundle's issuing CA
};

Files filesOf(const ZkCluster& c, const CaBundle& b, const StringMap& before, std::int64_t now) {
  Member m{"zk-0", 0, 1, true};
  StringMap files = memberKeystores(c, {m}, b.current, before, now, "cluster.local");
  return {b.trustBundle(), files.at("zk-0.pem")};
}

// While the kubelets write a step's files, a member may still run the step before: each
// certificate of either of two steps in a row is trusted by the trust store of both.
void expectEveryTwoStepsTalk(const std::vector<Files>& steps, std::int64_t now) {
  for (size_t i = 1; i < steps.size(); ++i) {
    SCOPED_TRACE(i);
    for (const Files* mine : {&steps[i - 1], &steps[i]}) {
      for (const Files* peer : {&steps[i - 1], &steps[i]}) {
        EXPECT_TRUE(trusted(peer->cert, mine->trust, now));
      }
    }
  }
}

TEST(OperatorCaRotation, TheSecretsFilesRoundTrip) {
  ZkCluster c = cluster();
  CaBundle b{issueCa("a", kT0, 3000), issueCa("b", kT0, 3000), std::nullopt, kT0, "r1"};
  EXPECT_EQ(caBundleOf(caSecretFiles(b)), std::optional(b));
  b.next.reset();
  b.previousPem = issueCa("c", kT0, 3000).certPem;
  EXPECT_EQ(caBundleOf(caSecretFiles(b)), std::optional(b));
  EXPECT_EQ(caBundleOf({{"tls.crt", "x"}}), std::nullopt);
}

TEST(OperatorCaRotation, AnAnnotationWalksTheThreeStepsAndNoTwoMembersEverDisagree) {
  ZkCluster c = cluster();
  CaBundle b{issueCa("zk zookube CA", kT0, 9000), std::nullopt, std::nullopt, 0, ""};
  std::int64_t now = kT0 + 10;
  EXPECT_EQ(advanceCaRotation(c, b, "", now).reason, "");  // nothing due, nothing asked
  Files before = filesOf(c, b, {}, now);
  StringMap keystores{{"zk-0.pem", before.cert}};

  CaRotationStep started = advanceCaRotation(c, b, "please", now);
  EXPECT_EQ(started.reason, "CARotationStarted");
  EXPECT_EQ(started.bundle.phase(), CaRotationPhase::kTrusting);
  EXPECT_EQ(started.bundle.current, b.current);  // still issuing from the old CA
  EXPECT_EQ(split(started.bundle.trustBundle()).size(), 2u);
  EXPECT_NE(started.message.find("asked by zookube.dev/rotate-ca"), std::string::npos);
  Files trusting = filesOf(c, started.bundle, keystores, now);
  EXPECT_EQ(trusting.cert, before.cert);  // no member certificate changes yet

  // The step lasts caRotationStep.
  EXPECT_EQ(advanceCaRotation(c, started.bundle, "please", now + 59).reason, "");
  CaRotationStep switched = advanceCaRotation(c, started.bundle, "please", now + 60);
  EXPECT_EQ(switched.reason, "CARotationSwitched");
  EXPECT_EQ(switched.bundle.current, *started.bundle.next);
  EXPECT_EQ(switched.bundle.previousPem, b.current.certPem);
  Files moved = filesOf(c, switched.bundle, keystores, now + 60);
  EXPECT_NE(moved.cert, before.cert);  // reissued from the new CA
  EXPECT_TRUE(verifiesAgainst(moved.cert, switched.bundle.current.certPem, now + 60));

  CaRotationStep completed = advanceCaRotation(c, switched.bundle, "please", now + 120);
  EXPECT_EQ(completed.reason, "CARotationCompleted");
  EXPECT_EQ(completed.bundle.phase(), CaRotationPhase::kNone);
  EXPECT_EQ(split(completed.bundle.trustBundle()).size(), 1u);
  Files after = filesOf(c, completed.bundle, {{"zk-0.pem", moved.cert}}, now + 120);
  EXPECT_EQ(after.cert, moved.cert);

  expectEveryTwoStepsTalk({before, trusting, moved, after}, now + 120);
  // The same annotation value asks for nothing more.
  EXPECT_EQ(advanceCaRotation(c, completed.bundle, "please", now + 500).reason, "");
}

TEST(OperatorCaRotation, ACaStartsRotatingAtTheFractionMemberCertificatesRenewAt) {
  ZkCluster c = cluster();  // members renew with a third of their lifetime left
  CaBundle b{issueCa("zk zookube CA", kT0, 9000), std::nullopt, std::nullopt, 0, ""};
  EXPECT_EQ(caRenewBeforeSeconds(c.spec.tls, inspectCertificate(b.current.certPem)), 3000);
  EXPECT_EQ(advanceCaRotation(c, b, "", kT0 + 5999).reason, "");
  CaRotationStep due = advanceCaRotation(c, b, "", kT0 + 6000);
  EXPECT_EQ(due.reason, "CARotationStarted");
  EXPECT_NE(due.message.find("the CA is due"), std::string::npos);
}

TEST(OperatorCaRotation, EitherBackendMakesTheCaOnceAndRotatesOnANewAnnotationValue) {
  ZkCluster c = cluster();
  EXPECT_EQ(caRotationRequest(c), "");
  c.meta.annotations[kRotateCaAnnotation] = "first";
  EXPECT_EQ(caRotationRequest(c), "first");
  // Nothing stored: a new CA, stored without an Event; the value present at creation is answered.
  CaUpdate made = updateOperatorCa(c, std::nullopt, kT0);
  EXPECT_TRUE(made.store);
  EXPECT_EQ(made.step.reason, "");
  EXPECT_EQ(made.step.bundle.phase(), CaRotationPhase::kNone);
  EXPECT_EQ(made.step.bundle.request, "first");
  EXPECT_EQ(inspectCertificate(made.step.bundle.current.certPem).notAfter, kT0 + 9000);
  // Stored and nothing asked: nothing to write.
  CaUpdate kept = updateOperatorCa(c, made.step.bundle, kT0 + 10);
  EXPECT_FALSE(kept.store);
  EXPECT_EQ(kept.step.bundle, made.step.bundle);
  // A new value starts a rotation, to be written and reported.
  c.meta.annotations[kRotateCaAnnotation] = "second";
  CaUpdate asked = updateOperatorCa(c, made.step.bundle, kT0 + 20);
  EXPECT_TRUE(asked.store);
  EXPECT_EQ(asked.step.reason, "CARotationStarted");
  EXPECT_EQ(asked.step.bundle.request, "second");
  EXPECT_EQ(asked.step.bundle.phase(), CaRotationPhase::kTrusting);
}

// A CA the user names (spec.tls.caSecretRef): the operator's copy of it is the stored state.
constexpr const char* kWhere = "Secret ns/my-ca (spec.tls.caSecretRef)";

ZkCluster userCaCluster() {
  ZkCluster c = cluster();
  c.spec.tls.caSecretName = "my-ca";
  return c;
}

TEST(OperatorCaRotation, AUsersCaIsTakenAsItIsFirstAndKeptWhileItStays) {
  ZkCluster c = userCaCluster();
  KeyPair user = issueCa("users CA", kT0, 9000);
  CaUpdate first = followUserCa(c, std::nullopt, user, kWhere, kT0);
  EXPECT_TRUE(first.store);
  EXPECT_EQ(first.step.reason, "");
  EXPECT_EQ(first.step.bundle.current, user);
  CaUpdate kept = followUserCa(c, first.step.bundle, user, kWhere, kT0 + 8000);
  EXPECT_FALSE(kept.store);  // nor rotated when due: the user's CA is the user's to replace
  EXPECT_EQ(kept.step.bundle, first.step.bundle);
}

TEST(OperatorCaRotation, ANewCaInTheUsersSecretWalksTheThreeStepsAndNoTwoMembersEverDisagree) {
  ZkCluster c = userCaCluster();
  KeyPair old = issueCa("users CA", kT0, 9000), fresh = issueCa("users new CA", kT0, 9000);
  CaBundle b{old, std::nullopt, std::nullopt, 0, ""};
  std::int64_t now = kT0 + 10;
  Files before = filesOf(c, b, {}, now);
  StringMap keystores{{"zk-0.pem", before.cert}};

  CaUpdate started = followUserCa(c, b, fresh, kWhere, now);
  EXPECT_TRUE(started.store);
  EXPECT_EQ(started.step.reason, "CARotationStarted");
  EXPECT_NE(started.step.message.find(std::string(kWhere) + " holds a new CA"), std::string::npos);
  const CaBundle& trusting = started.step.bundle;
  EXPECT_EQ(trusting.current, old);  // the old key still issues: the user's Secret lost it
  EXPECT_EQ(trusting.next, fresh);
  Files both = filesOf(c, trusting, keystores, now);
  EXPECT_EQ(both.cert, before.cert);

  EXPECT_FALSE(followUserCa(c, trusting, fresh, kWhere, now + 59).store);
  CaUpdate switched = followUserCa(c, trusting, fresh, kWhere, now + 60);
  EXPECT_EQ(switched.step.reason, "CARotationSwitched");
  EXPECT_EQ(switched.step.bundle.current, fresh);
  Files moved = filesOf(c, switched.step.bundle, keystores, now + 60);
  EXPECT_TRUE(verifiesAgainst(moved.cert, fresh.certPem, now + 60));

  CaUpdate completed = followUserCa(c, switched.step.bundle, fresh, kWhere, now + 120);
  EXPECT_EQ(completed.step.reason, "CARotationCompleted");
  EXPECT_EQ(completed.step.bundle.trustBundle(), fresh.certPem);
  Files after = filesOf(c, completed.step.bundle, {{"zk-0.pem", moved.cert}}, now + 120);
  expectEveryTwoStepsTalk({before, both, moved, after}, now + 120);
  EXPECT_FALSE(followUserCa(c, completed.step.bundle, fresh, kWhere, now + 500).store);
}

TEST(OperatorCaRotation, AUsersCaChangedMidRotationIsFollowedSafely) {
  ZkCluster c = userCaCluster();
  KeyPair old = issueCa("a", kT0, 9000), second = issueCa("b", kT0, 9000),
          third = issueCa("c", kT0, 9000);
  CaBundle trusting =
      followUserCa(c, CaBundle{old, std::nullopt, std::nullopt, 0, ""}, second, kWhere, kT0)
          .step.bundle;
  // Another CA while nothing comes from the second yet: it replaces it, and the step restarts.
  CaUpdate again = followUserCa(c, trusting, third, kWhere, kT0 + 50);
  EXPECT_EQ(again.step.reason, "CARotationStarted");
  EXPECT_EQ(again.step.bundle.next, third);
  EXPECT_EQ(again.step.bundle.since, kT0 + 50);
  EXPECT_EQ(again.step.bundle.current, old);
  // The old one back: nothing was issued from the new one, so it is dropped at once.
  CaUpdate back = followUserCa(c, trusting, old, kWhere, kT0 + 50);
  EXPECT_EQ(back.step.reason, "CARotationCancelled");
  EXPECT_EQ(back.step.bundle, (CaBundle{old, std::nullopt, std::nullopt, 0, ""}));
  // Once members' certificates come from the new CA, the rotation finishes before another.
  CaBundle switched = followUserCa(c, trusting, second, kWhere, kT0 + 60).step.bundle;
  EXPECT_EQ(followUserCa(c, switched, third, kWhere, kT0 + 61).step.reason, "");
  CaBundle done = followUserCa(c, switched, third, kWhere, kT0 + 120).step.bundle;
  EXPECT_EQ(done.current, second);
  CaUpdate next = followUserCa(c, done, third, kWhere, kT0 + 121);
  EXPECT_EQ(next.step.reason, "CARotationStarted");
  EXPECT_EQ(next.step.bundle.next, third);
}

TEST(OperatorCaRotation, NamingAUsersCaMovesOffTheOperatorsOwnThroughTheSameSteps) {
  ZkCluster c = cluster();
  CaBundle own = updateOperatorCa(c, std::nullopt, kT0).step.bundle;
  c.spec.tls.caSecretName = "my-ca";
  KeyPair user = issueCa("users CA", kT0, 9000);
  CaUpdate started = followUserCa(c, own, user, kWhere, kT0 + 1);
  EXPECT_EQ(started.step.reason, "CARotationStarted");
  EXPECT_EQ(started.step.bundle.current, own.current);
  EXPECT_EQ(started.step.bundle.next, user);
}

TEST(OperatorCaRotation, AUsersCaMustBeACaWithItsKeyAndValidNow) {
  KeyPair ca = issueCa("users CA", kT0, 9000);
  EXPECT_EQ(caProblem(ca, kT0 + 1), "");
  EXPECT_EQ(caProblem({ca.keyPem, "junk"}, kT0), "tls.crt is not a PEM certificate");
  EXPECT_EQ(caProblem({"junk", ca.certPem}, kT0), "tls.key is not a PEM private key");
  KeyPair other = issueCa("other", kT0, 9000);
  EXPECT_EQ(caProblem({other.keyPem, ca.certPem}, kT0), "tls.key is not the key of tls.crt");
  KeyPair leaf = issueCertificate({"leaf", {"x"}, {}, kT0, 900}, ca);
  EXPECT_EQ(caProblem(leaf, kT0), "tls.crt is not a CA certificate (basicConstraints)");
  EXPECT_NE(caProblem(ca, kT0 + 9000).find("tls.crt expired at"), std::string::npos);
  EXPECT_NE(caProblem(ca, kT0 - 10).find("is not valid before"), std::string::npos);
}

}  // namespace
}  // namespace zk::op

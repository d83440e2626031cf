// status.tls and the verdicts behind TLSReady and CertificatesExpiring, judged on certificates
// made with the operator's own OpenSSL code at chosen times.
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <memory>

#include "operator_plan_test_util.h"
#include "render/certificates.h"
#include "render/tls_status.h"

namespace zk::op {
namespace {

using namespace zk::op::testing;

constexpr std::int64_t kNow = 1'800'000'000;
constexpr std::int64_t kDay = 24 * 3600;

ZkCluster tlsCluster() {
  ZkCluster c = makeCluster(3, 0);
  c.spec.tls.client = ClientTls::kOn;
  c.spec.tls.durationSeconds = 90 * kDay;
  c.spec.tls.renewBeforeSeconds = 30 * kDay;
  return c;
}

struct Issued {
  KeyPair ca;
  TlsEvidence evidence;
};

// The CA and every voter's certificate, issued at `at`.
Issued issueAll(const ZkCluster& c, std::int64_t at) {
  Issued out{issueCa("zk CA", at, 3650 * kDay), {}};
  out.evidence.caPem = out.ca.certPem;
  for (const Member& m : members(c, {c.spec.voters, 0})) {
    KeyPair leaf = issueCertificate(memberCertificateRequest(c, m, "cluster.local", at), out.ca);
    out.evidence.members[m.name] = leaf.keyPem + leaf.certPem;
  }
  return out;
}

std::vector<Member> voters(const ZkCluster& c) {
  return members(c, {c.spec.voters, 0});
}

TEST(OperatorTlsStatus, FreshCertificatesAreReadyAndNotExpiring) {
  ZkCluster c = tlsCluster();
  Issued i = issueAll(c, kNow);
  TlsObservation o = observeTls(c, voters(c), i.evidence, kNow + kDay);
  EXPECT_TRUE(o.ready.holds) << o.ready.message;
  EXPECT_EQ(o.ready.reason, "CertificatesValid");
  EXPECT_FALSE(o.expiring.holds);
  EXPECT_EQ(o.status.client, "on");
  EXPECT_EQ(o.status.source, "operator");
  EXPECT_EQ(o.status.caFingerprint, inspectCertificate(i.ca.certPem).sha256Fingerprint);
  EXPECT_EQ(o.status.caNotAfter, rfc3339(kNow + 3650 * kDay));
  ASSERT_EQ(o.status.members.size(), 3u);
  EXPECT_EQ(o.status.members[0].name, "zk-0");
  EXPECT_EQ(o.status.earliestNotAfter, rfc3339(kNow + 90 * kDay));
  EXPECT_EQ(o.status.nextRenewal, rfc3339(kNow + 60 * kDay));
  EXPECT_EQ(rfc3339(kNow), "2027-01-15T08:00:00Z");
}

TEST(OperatorTlsStatus, TheFirstCertificateInItsWindowIsNamed) {
  ZkCluster c = tlsCluster();
  Issued i = issueAll(c, kNow);
  // zk-1 was issued ten days before the others: it is due first.
  KeyPair older = issueCertificate(
      memberCertificateRequest(c, voterMember(c, 1), "cluster.local", kNow - 10 * kDay), i.ca);
  i.evidence.members["zk-1"] = older.keyPem + older.certPem;
  TlsObservation o = observeTls(c, voters(c), i.evidence, kNow + 55 * kDay);
  EXPECT_TRUE(o.ready.holds);
  EXPECT_TRUE(o.expiring.holds);
  EXPECT_EQ(o.expiring.reason, "RenewalOverdue");
  EXPECT_NE(o.expiring.message.find("zk-1 expires at " + rfc3339(kNow + 80 * kDay)),
            std::string::npos)
      << o.expiring.message;
  EXPECT_EQ(o.status.nextRenewal, rfc3339(kNow + 55 * kDay)) << "due now: not in the past";
  i.evidence.operatorRenews = false;  // a user's Secret: nobody renews it
  TlsObservation user = observeTls(c, voters(c), i.evidence, kNow + 55 * kDay);
  EXPECT_EQ(user.status.nextRenewal, "");
  EXPECT_EQ(user.expiring.reason, "RenewalDue");
  EXPECT_NE(user.expiring.message.find("replace it in the Secret"), std::string::npos);
  // Just due: a user's at once; the renewing operator gets its grace (a tenth of the window, at
  // most an hour).
  EXPECT_TRUE(observeTls(c, voters(c), i.evidence, kNow + 50 * kDay + 1).expiring.holds);
  i.evidence.operatorRenews = true;
  EXPECT_FALSE(observeTls(c, voters(c), i.evidence, kNow + 50 * kDay + 1800).expiring.holds);
  EXPECT_TRUE(observeTls(c, voters(c), i.evidence, kNow + 50 * kDay + 3600).expiring.holds);
}

TEST(OperatorTlsStatus, MissingForeignAndExpiredCertificatesAreNotReady) {
  ZkCluster c = tlsCluster();
  Issued i = issueAll(c, kNow);
  Issued missing = i;
  missing.evidence.members.erase("zk-2");
  TlsObservation o = observeTls(c, voters(c), missing.evidence, kNow + kDay);
  EXPECT_FALSE(o.ready.holds);
  EXPECT_EQ(o.ready.reason, "CertificatesMissing");
  EXPECT_EQ(o.ready.message, "no certificate yet for zk-2");
  Issued foreign = i;
  foreign.evidence.members["zk-0"] = issueAll(c, kNow).evidence.members["zk-0"];
  o = observeTls(c, voters(c), foreign.evidence, kNow + kDay);
  EXPECT_EQ(o.ready.reason, "CertificateInvalid");
  EXPECT_NE(o.ready.message.find("zk-0"), std::string::npos);
  o = observeTls(c, voters(c), i.evidence, kNow + 91 * kDay);
  EXPECT_EQ(o.ready.reason, "CertificateInvalid") << "expired";
  EXPECT_TRUE(o.expiring.holds);
  Issued garbage = i;
  garbage.evidence.caPem = "not a certificate";
  o = observeTls(c, voters(c), garbage.evidence, kNow);
  EXPECT_EQ(o.ready.reason, "CAUnreadable");
}

TEST(OperatorTlsStatus, AnExpiringCaIsItsOwnReason) {
  ZkCluster c = tlsCluster();
  Issued i = issueAll(c, kNow);
  TlsObservation o = observeTls(c, voters(c), i.evidence, kNow + 3630 * kDay);
  EXPECT_TRUE(o.expiring.holds);
  EXPECT_EQ(o.expiring.reason, "CAExpiring");
}

// A certificate for `name` signed by `ca` with only the serverAuth usage, as some issuers make
// for servers: the operator never issues one, so it is made here with OpenSSL's API.
std::string serverOnlyCertificate(const KeyPair& ca, const std::string& name, std::int64_t now) {
  auto bio = [](const std::string& pem) {
    return std::unique_ptr<BIO, decltype(&BIO_free)>(BIO_new_mem_buf(pem.data(), int(pem.size())),
                                                     &BIO_free);
  };
  auto caBio = bio(ca.certPem);
  std::unique_ptr<X509, decltype(&X509_free)> caCert(
      PEM_read_bio_X509(caBio.get(), nullptr, nullptr, nullptr), &X509_free);
  auto keyBio = bio(ca.keyPem);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> caKey(
      PEM_read_bio_PrivateKey(keyBio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), &X509_free);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 7);
  X509_time_adj_ex(X509_getm_notBefore(cert.get()), 0, 0, &now);
  X509_time_adj_ex(X509_getm_notAfter(cert.get()), 90, 0, &now);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(caCert.get()));
  X509_set_pubkey(cert.get(), caKey.get());  // any key: only the usage is under test
  std::string san = "DNS:" + name;
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, caCert.get(), cert.get(), nullptr, nullptr, 0);
  for (auto [nid, value] :
       {std::pair{NID_ext_key_usage, "serverAuth"}, std::pair{NID_subject_alt_name, san.c_str()}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(cert.get(), caKey.get(), EVP_sha256());
  std::unique_ptr<BIO, decltype(&BIO_free)> out(BIO_new(BIO_s_mem()), &BIO_free);
  PEM_write_bio_X509(out.get(), cert.get());
  char* data = nullptr;
  long len = BIO_get_mem_data(out.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

TEST(OperatorTlsStatus, AGivenCertificateMustFitItsKeyItsCaItsTimeAndTheMembersName) {
  ZkCluster c = tlsCluster();
  KeyPair ca = issueCa("user CA", kNow, 3650 * kDay);
  Member m = voterMember(c, 2);
  auto given = [&](std::vector<std::string> names, std::int64_t lifetime = 90 * kDay) {
    KeyPair leaf = issueCertificate({"zk", std::move(names), {}, kNow, lifetime}, ca);
    return ProvidedCertificate{leaf.certPem, leaf.keyPem, ca.certPem};
  };
  EXPECT_EQ(certificateProblem(c, m, given({"*.zk-headless.ns.svc"}), kNow + kDay), "");
  EXPECT_EQ(certificateProblem(c, m, given({"zk-2.zk-headless.ns.svc"}), kNow + kDay), "");
  EXPECT_EQ(certificateProblem(c, m, given({"zk-1.zk-headless.ns.svc"}), kNow + kDay),
            "zk-2: tls.crt does not name zk-2.zk-headless.ns.svc");
  EXPECT_EQ(certificateProblem(c, m, given({"*.ns.svc"}), kNow + kDay),
            "zk-2: tls.crt does not name zk-2.zk-headless.ns.svc")
      << "a wildcard covers one label only";
  EXPECT_EQ(certificateProblem(c, m, given({"*.zk-headless.ns.svc"}, kDay), kNow + 2 * kDay),
            "zk-2: tls.crt expired at " + rfc3339(kNow + kDay));
  ProvidedCertificate foreign = given({"*.zk-headless.ns.svc"});
  foreign.caPem = issueCa("other CA", kNow, 3650 * kDay).certPem;
  EXPECT_EQ(certificateProblem(c, m, foreign, kNow + kDay),
            "zk-2: tls.crt is not signed by ca.crt, or not valid yet");
  ProvidedCertificate wrongKey = given({"*.zk-headless.ns.svc"});
  wrongKey.keyPem = given({"x"}).keyPem;
  EXPECT_EQ(certificateProblem(c, m, wrongKey, kNow + kDay),
            "zk-2: tls.key is not the key of tls.crt");
  // tls.quorum: a member dials its peers with the certificate it serves with.
  c.spec.tls.quorum = true;
  EXPECT_EQ(certificateProblem(c, m, given({"*.zk-headless.ns.svc"}), kNow + kDay), "");
  ProvidedCertificate serverOnly{serverOnlyCertificate(ca, "*.zk-headless.ns.svc", kNow), ca.keyPem,
                                 ca.certPem};
  EXPECT_EQ(certificateProblem(c, m, serverOnly, kNow + kDay),
            "zk-2: tls.crt lacks the clientAuth or serverAuth extended key usage tls.quorum needs");
  c.spec.tls.quorum = false;
  EXPECT_EQ(certificateProblem(c, m, serverOnly, kNow + kDay), "");
  ProvidedCertificate garbage{"junk", "junk", "junk"};
  EXPECT_EQ(certificateProblem(c, m, garbage, kNow), "zk-2: tls.crt is not a PEM certificate");
}

TEST(OperatorTlsStatus, SecretRefTakesOneSecretOrOnePerMember) {
  auto parse = [](const std::string& ref) {
    return parseZkClusterYaml(
        "apiVersion: zookube.dev/v1alpha1\nkind: ZkCluster\nmetadata: {name: zk}\nspec:\n"
        "  tls:\n    client: \"on\"\n    secretRef: " +
        ref + "\n");
  };
  ZkCluster one = parse("{name: certs}");
  EXPECT_EQ(one.spec.tls.source, CertificateSource::kSecret);
  EXPECT_FALSE(one.spec.tls.secretPerMember);
  ZkCluster each = parse("{name: certs, perMember: true}");
  EXPECT_TRUE(each.spec.tls.secretPerMember);
  EXPECT_TRUE(toJson(each.spec).at("tls").at("secretRef").at("perMember").as_bool());
  EXPECT_THROW(parse("{name: certs, perMember: \"yes\"}"), SpecError);
}

TEST(OperatorTlsStatus, CertManagerCertificateAsksForEveryNameAndBothUsages) {
  ZkCluster c = tlsCluster();
  c.spec.tls.source = CertificateSource::kCertManager;
  c.spec.tls.issuerRef = IssuerRef{"zk-ca", "ClusterIssuer", "cert-manager.io"};
  web::json::value cert = memberCertificate(c, voterMember(c, 1), "cluster.local");
  EXPECT_EQ(cert.at("apiVersion").as_string(), "cert-manager.io/v1");
  EXPECT_EQ(cert.at("metadata").at("name").as_string(), "zk-1-tls");
  const web::json::value& spec = cert.at("spec");
  EXPECT_EQ(spec.at("secretName").as_string(), "zk-1-tls");
  EXPECT_EQ(spec.at("issuerRef").at("kind").as_string(), "ClusterIssuer");
  EXPECT_EQ(spec.at("duration").as_string(), std::to_string(90 * kDay) + "s");
  bool named = false;
  for (const auto& n : spec.at("dnsNames").as_array()) {
    named |= n.as_string() == memberVerifyName(c, voterMember(c, 1));
  }
  EXPECT_TRUE(named);
  EXPECT_EQ(spec.at("usages").size(), 4u);
}

Plan step(ZkCluster& c, const Observed& o) {
  Plan p = plan(c, "hash", o);
  c.status = p.status;
  return p;
}

int warnings(const Plan& p, const std::string& reason) {
  int n = 0;
  for (const EmitEvent& e : actionsOf<EmitEvent>(p)) n += e.reason == reason && e.warning;
  return n;
}

TEST(OperatorTlsStatus, ThePlannerWritesStatusTlsAndBothConditions) {
  ZkCluster c = tlsCluster();
  Issued i = issueAll(c, kNow);
  Observed o = healthy(c, "hash");
  o.tls = observeTls(c, voters(c), i.evidence, kNow + kDay);
  Plan p = step(c, o);
  ASSERT_TRUE(p.status.tls.has_value());
  EXPECT_EQ(*p.status.tls, o.tls->status);
  const Condition& ready = conditionOf(p.status, "TLSReady");
  EXPECT_EQ(ready.status, "True");
  EXPECT_EQ(ready.reason, "CertificatesValid");
  EXPECT_EQ(ready.observedGeneration, c.meta.generation);
  EXPECT_EQ(conditionOf(p.status, "CertificatesExpiring").status, "False");
  EXPECT_EQ(p.status.phase, "Running");

  o.tls = observeTls(c, voters(c), i.evidence, kNow + 61 * kDay);
  p = step(c, o);
  EXPECT_EQ(conditionOf(p.status, "CertificatesExpiring").status, "True");
  EXPECT_EQ(warnings(p, "RenewalOverdue"), 1);
  EXPECT_EQ(warnings(step(c, o), "RenewalOverdue"), 0) << "an Event when it turns True only";

  i.evidence.members.erase("zk-1");
  o.tls = observeTls(c, voters(c), i.evidence, kNow + kDay);
  p = step(c, o);
  EXPECT_EQ(conditionOf(p.status, "TLSReady").status, "False");
  EXPECT_EQ(warnings(p, "CertificatesMissing"), 1);

  o.tls.reset();  // TLS turned off: neither the field nor the conditions remain
  p = step(c, o);
  EXPECT_FALSE(p.status.tls.has_value());
  for (const Condition& x : p.status.conditions) EXPECT_NE(x.type, "TLSReady");
}

TEST(OperatorTlsStatus, StatusTlsSurvivesJson) {
  ZkClusterStatus s;
  s.tls = TlsStatus{"on",
                    "operator",
                    "AB:CD",
                    "2030-01-01T00:00:00Z",
                    {{"zk-0", "2028-01-01T00:00:00Z"}},
                    "2028-01-01T00:00:00Z",
                    "2027-09-01T00:00:00Z",
                    "Trusting"};
  EXPECT_EQ(parseStatus(toJson(s)).tls, s.tls);
  EXPECT_FALSE(parseStatus(toJson(ZkClusterStatus{})).tls.has_value());
}

}  // namespace
}  // namespace zk::op

#include "render/tls_status.h"

#include <algorithm>
#include <ctime>
#include <optional>

#include "render/certificates.h"

namespace zk::op {
namespace {

std::string sourceName(CertificateSource s) {
  switch (s) {
    case CertificateSource::kCertManager:
      return "cert-manager";
    case CertificateSource::kSecret:
      return "secret";
    case CertificateSource::kOperator:
      break;
  }
  return "operator";
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

struct MemberFindings {
  std::vector<std::string> missing, unreadable, untrusted;       // names
  std::optional<std::pair<std::string, std::int64_t>> earliest;  // member, notAfter
};

MemberFindings inspectMembers(const std::vector<Member>& ms, const TlsEvidence& e, std::int64_t now,
                              TlsObservation& o) {
  MemberFindings f;
  for (const Member& m : ms) {
    auto it = e.members.find(m.name);
    if (it == e.members.end()) {
      f.missing.push_back(m.name);
      continue;
    }
    CertificateInfo info;
    try {
      info = inspectCertificate(it->second);
    } catch (const CertificateError&) {
      f.unreadable.push_back(m.name);
      continue;
    }
    o.status.members.push_back({m.name, rfc3339(info.notAfter)});
    o.expiry[m.name] = info.notAfter;
    bool trusted = false;
    try {
      trusted = verifiesAgainst(it->second, e.caPem, now);
    } catch (const CertificateError&) {
      trusted = false;
    }
    if (!trusted) f.untrusted.push_back(m.name);
    if (!f.earliest || info.notAfter < f.earliest->second) f.earliest = {{m.name, info.notAfter}};
  }
  return f;
}

TlsVerdict readiness(const MemberFindings& f, std::size_t members, const TlsStatus& status) {
  if (!f.missing.empty())
    return {false, "CertificatesMissing", "no certificate yet for " + joined(f.missing)};
  if (!f.unreadable.empty())
    return {false, "CertificateUnreadable",
            "the certificate of " + joined(f.unreadable) + " is not PEM X.509"};
  if (!f.untrusted.empty())
    return {false, "CertificateInvalid",
            "the certificate of " + joined(f.untrusted) +
                " is not signed by the CA or not valid now (expired or not yet valid)"};
  return {true, "CertificatesValid",
          std::to_string(members) + " member certificates signed by the CA (SHA-256 " +
              status.caFingerprint.substr(0, 23) + "...), the first expiring at " +
              status.earliestNotAfter};
}

// A certificate the operator or cert-manager renews is renewed when it falls due, within the
// pass that sees it: only one still unrenewed after this long is worth a condition and a Warning.
std::int64_t renewalGrace(const ZkCluster& c, const TlsEvidence& e) {
  return e.operatorRenews ? std::min<std::int64_t>(c.spec.tls.renewBeforeSeconds / 10, 3600) : 0;
}

}  // namespace

std::string rfc3339(std::int64_t unixSeconds) {
  std::time_t t = static_cast<std::time_t>(unixSeconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

TlsObservation observeTls(const ZkCluster& c, const std::vector<Member>& ms,
                          const TlsEvidence& evidence, std::int64_t now) {
  TlsObservation o;
  o.status.client = std::string(clientTlsName(c.spec.tls.client));
  o.status.source = sourceName(c.spec.tls.source);
  CertificateInfo ca;
  try {
    ca = inspectCertificate(evidence.caPem);
  } catch (const CertificateError&) {
    o.ready = {false, "CAUnreadable", "the CA certificate is missing or not PEM X.509"};
    o.expiring = {false, "CAUnreadable", "no CA to judge the certificates by"};
    return o;
  }
  o.status.caFingerprint = ca.sha256Fingerprint;
  o.status.caNotAfter = rfc3339(ca.notAfter);
  MemberFindings f = inspectMembers(ms, evidence, now, o);
  std::int64_t window = c.spec.tls.renewBeforeSeconds;
  if (f.earliest) o.status.earliestNotAfter = rfc3339(f.earliest->second);
  if (f.earliest && evidence.operatorRenews)
    o.status.nextRenewal = rfc3339(std::max(now, f.earliest->second - window));
  o.ready = readiness(f, ms.size(), o.status);
  if (now >= ca.notAfter - window) {
    // Member certificates never outlive the CA; the operator rotates its own long before this
    // (ca_rotation.h), so this is a CA the user named or a rotation that did not happen.
    o.expiring = {true, "CAExpiring",
                  "the CA expires at " + rfc3339(ca.notAfter) +
                      "; member certificates cannot outlive it: replace the CA Secret"};
  } else if (f.earliest && now >= f.earliest->second - window + renewalGrace(c, evidence)) {
    std::string what =
        "the certificate of " + f.earliest->first + " expires at " + rfc3339(f.earliest->second);
    o.expiring = evidence.operatorRenews
                     ? TlsVerdict{true, "RenewalOverdue",
                                  what + " and was due for renewal at " +
                                      rfc3339(f.earliest->second - window)}
                     : TlsVerdict{true, "RenewalDue", what + "; replace it in the Secret"};
  } else {
    o.expiring = {false, "NoneDue",
                  f.earliest ? "the first certificate expires at " + rfc3339(f.earliest->second)
                             : "no member certificate yet"};
  }
  return o;
}

}  // namespace zk::op

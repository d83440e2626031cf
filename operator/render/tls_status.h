#pragma once
// What the members' certificates are at a given time, judged: status.tls and the verdicts behind
// the TLSReady and CertificatesExpiring conditions. Pure: the backend reads the Secrets and
// passes its clock; the planner turns the verdicts into conditions.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "render/render.h"  // Member

namespace zk::op {

struct TlsVerdict {
  bool holds = false;  // the condition's status
  std::string reason;
  std::string message;
  bool operator==(const TlsVerdict&) const = default;
};

struct TlsObservation {
  TlsStatus status;
  TlsVerdict ready;  // TLSReady: every member has a certificate the CA signed, valid now
  // CertificatesExpiring: the CA is inside its renewal window (it is not rotated), or a member's
  // certificate is and nobody renewed it (a tenth of the window, at most an hour, after it fell
  // due when the operator or cert-manager renews; at once for a user's Secret).
  TlsVerdict expiring;
  // Each member's certificate's notAfter as Unix time, for the operator's expiry metric.
  std::map<std::string, std::int64_t> expiry;
  bool operator==(const TlsObservation&) const = default;
};

// RFC 3339 UTC with whole seconds, as metav1.Time.
std::string rfc3339(std::int64_t unixSeconds);

struct TlsEvidence {
  std::string caPem;                           // the CA the members trust
  std::map<std::string, std::string> members;  // member name -> PEM holding its certificate
  bool operatorRenews = true;  // the operator (or cert-manager) renews; false for secretRef
};

// Judges `evidence` for the members `ms` at `now` against spec.tls (renewBefore).
TlsObservation observeTls(const ZkCluster& c, const std::vector<Member>& ms,
                          const TlsEvidence& evidence, std::int64_t now);

}  // namespace zk::op

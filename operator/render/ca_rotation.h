#pragma once
// Rotating the operator's own CA without a moment where two members cannot talk: trust the new
// CA beside the old one, then issue every member's certificate from the new one (the old stays
// trusted), then drop the old. Each step only rewrites Secrets; the members reload the files,
// so nobody restarts. Each of the first two steps lasts tls.caRotationStep, long enough for every
// kubelet to have written the files of the step before.
//
// A CA the user names (spec.tls.caSecretRef) is followed the same way: when their Secret holds
// a CA other than the one the members' certificates come from, the three steps move the members
// to it. Their Secret no longer holds the old CA, so the state (and a copy of the CA that issues,
// key included) lives in the operator's own CA Secret, as for its own CA.
//
// The state lives in the CA Secret itself (tls.crt/tls.key: the CA that issues; next.crt/next.key:
// trusted, not yet issuing; previous.crt: still trusted; rotation-since, rotation-request), so an
// operator restarted mid-way continues.

#include <cstdint>
#include <optional>
#include <string>

#include "model/zk_cluster.h"
#include "render/certificates.h"

namespace zk::op {

// The ZkCluster annotation that asks for a rotation: every new value starts one.
inline constexpr const char* kRotateCaAnnotation = "zookube.dev/rotate-ca";

enum class CaRotationPhase { kNone, kTrusting, kSwitched };
std::string_view caRotationPhaseName(CaRotationPhase phase);  // "", Trusting, Switched

struct CaBundle {
  KeyPair current;                         // issues the member certificates
  std::optional<KeyPair> next;             // trusted, issuing from the next step on
  std::optional<std::string> previousPem;  // trusted until the last step
  std::int64_t since = 0;                  // when the current step began
  std::string request;                     // the rotate-ca annotation value last answered
  CaRotationPhase phase() const;
  // What every member and the operator trust: the issuing CA first (status.tls reads the first).
  std::string trustBundle() const;
  bool operator==(const CaBundle&) const = default;
};

// The CA Secret's files and back.
StringMap caSecretFiles(const CaBundle& b);
std::optional<CaBundle> caBundleOf(const StringMap& files);  // nullopt: no tls.crt/tls.key

// When the CA falls due: the fraction of its lifetime that member certificates renew at
// (renewBefore / duration) of the CA's own lifetime.
std::int64_t caRenewBeforeSeconds(const TlsSpec& tls, const CertificateInfo& ca);

struct CaRotationStep {
  CaBundle bundle;
  std::string reason;   // the Event's reason; empty when nothing changed
  std::string message;  // what happened and what comes next
};

// The next state of the rotation at `now`: started when the CA is due or `request` is new (and
// not empty), moved on when the step has lasted tls.caRotationStep. A new CA is issued here.
CaRotationStep advanceCaRotation(const ZkCluster& c, const CaBundle& b, const std::string& request,
                                 std::int64_t now);

// The rotate-ca annotation's value; empty when the ZkCluster has none.
std::string caRotationRequest(const ZkCluster& c);

struct CaUpdate {
  CaRotationStep step;  // its bundle is the CA state from now on
  bool store = false;   // the state changed: write it back (an Event only when step.reason says)
};

// What either backend does with its stored CA state on each pass: with none stored, a new CA (the
// rotate-ca annotation present at creation asks for nothing: the CA is new); else the stored one
// moved on by advanceCaRotation with the annotation's value.
CaUpdate updateOperatorCa(const ZkCluster& c, const std::optional<CaBundle>& stored,
                          std::int64_t now);

// What either backend does with its stored state when spec.tls.caSecretRef names the CA, `user`
// being what that Secret holds now (checked: caProblem) and `where` how messages name it. With
// none stored, the user's CA is taken as it is (a new cluster). Else a CA other than the one that
// issues starts a rotation to it at once (CARotationStarted); one that changes again while the
// members only trust it replaces it as the next CA (restarting the step), and the old one again
// ends the rotation before anything came from the new one (CARotationCancelled). Once member
// certificates are from the new CA the rotation finishes first; a newer CA then starts another.
CaUpdate followUserCa(const ZkCluster& c, const std::optional<CaBundle>& stored,
                      const KeyPair& user, const std::string& where, std::int64_t now);

}  // namespace zk::op

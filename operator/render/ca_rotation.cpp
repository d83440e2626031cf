#include "render/ca_rotation.h"

#include "render/tls_status.h"

namespace zk::op {
namespace {

std::string fingerprint(const std::string& pem) {
  return inspectCertificate(pem).sha256Fingerprint.substr(0, 23);  // the first 8 bytes
}

bool sameCertificate(const std::string& a, const std::string& b) {
  return inspectCertificate(a).sha256Fingerprint == inspectCertificate(b).sha256Fingerprint;
}

// The first step, trusting `next` beside the CA that issues: `why` says who asked.
CaRotationStep trustNext(const ZkCluster& c, const CaBundle& b, KeyPair next,
                         const std::string& why, std::int64_t now) {
  CaRotationStep step{b, "CARotationStarted", ""};
  step.bundle.next = std::move(next);
  step.bundle.since = now;
  step.message = why + ": every member now trusts the new CA " +
                 fingerprint(step.bundle.next->certPem) + " beside " +
                 fingerprint(b.current.certPem) + "; member certificates move to it at " +
                 rfc3339(now + c.spec.tls.caRotationStepSeconds);
  return step;
}

}  // namespace

std::string_view caRotationPhaseName(CaRotationPhase phase) {
  switch (phase) {
    case CaRotationPhase::kNone:
      return "";
    case CaRotationPhase::kTrusting:
      return "Trusting";
    case CaRotationPhase::kSwitched:
      return "Switched";
  }
  return "";
}

CaRotationPhase CaBundle::phase() const {
  if (next) return CaRotationPhase::kTrusting;
  if (previousPem) return CaRotationPhase::kSwitched;
  return CaRotationPhase::kNone;
}

std::string CaBundle::trustBundle() const {
  return current.certPem + (next ? next->certPem : "") + previousPem.value_or("");
}

StringMap caSecretFiles(const CaBundle& b) {
  StringMap files{{"tls.crt", b.current.certPem}, {"tls.key", b.current.keyPem}};
  if (b.next) {
    files["next.crt"] = b.next->certPem;
    files["next.key"] = b.next->keyPem;
  }
  if (b.previousPem) files["previous.crt"] = *b.previousPem;
  if (b.since) files["rotation-since"] = std::to_string(b.since) + "\n";
  if (!b.request.empty()) files["rotation-request"] = b.request + "\n";
  return files;
}

std::optional<CaBundle> caBundleOf(const StringMap& files) {
  auto text = [&](const char* key) -> std::optional<std::string> {
    auto it = files.find(key);
    return it == files.end() ? std::nullopt : std::optional(it->second);
  };
  auto cert = text("tls.crt"), key = text("tls.key");
  if (!cert || !key) return std::nullopt;
  CaBundle b{{*key, *cert}, std::nullopt, text("previous.crt"), 0, ""};
  auto nextCert = text("next.crt"), nextKey = text("next.key");
  if (nextCert && nextKey) b.next = KeyPair{*nextKey, *nextCert};
  auto trimmed = [](std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
  };
  if (auto since = text("rotation-since")) {
    try {
      b.since = std::stoll(*since);
    } catch (const std::exception&) {
      b.since = 0;  // hand-edited: the step is taken to have lasted
    }
  }
  b.request = trimmed(text("rotation-request").value_or(""));
  return b;
}

std::int64_t caRenewBeforeSeconds(const TlsSpec& tls, const CertificateInfo& ca) {
  long double fraction = static_cast<long double>(tls.renewBeforeSeconds) / tls.durationSeconds;
  return static_cast<std::int64_t>(fraction * (ca.notAfter - ca.notBefore));
}

CaRotationStep advanceCaRotation(const ZkCluster& c, const CaBundle& b, const std::string& request,
                                 std::int64_t now) {
  CaRotationStep step{b, "", ""};
  CaBundle& out = step.bundle;
  bool stepDone = now >= b.since + c.spec.tls.caRotationStepSeconds;
  switch (b.phase()) {
    case CaRotationPhase::kNone: {
      CertificateInfo ca = inspectCertificate(b.current.certPem);
      bool due = renewalDue(ca, now, caRenewBeforeSeconds(c.spec.tls, ca));
      bool asked = !request.empty() && request != b.request;
      if (!due && !asked) return step;
      step =
          trustNext(c, b, issueCa(c.meta.name + " zookube CA", now, c.spec.tls.caDurationSeconds),
                    asked ? "asked by " + std::string(kRotateCaAnnotation) : "the CA is due", now);
      step.bundle.request = request;
      return step;
    }
    case CaRotationPhase::kTrusting:
      if (!stepDone) return step;
      out.previousPem = b.current.certPem;
      out.current = *b.next;
      out.next.reset();
      out.since = now;
      step.reason = "CARotationSwitched";
      step.message = "member certificates are reissued from the new CA " +
                     fingerprint(out.current.certPem) + "; the old one " +
                     fingerprint(*out.previousPem) + " stays trusted until " +
                     rfc3339(now + c.spec.tls.caRotationStepSeconds);
      return step;
    case CaRotationPhase::kSwitched:
      if (!stepDone) return step;
      step.message = "the old CA " + fingerprint(*b.previousPem) +
                     " is no longer trusted; every member's certificate is from " +
                     fingerprint(b.current.certPem);
      out.previousPem.reset();
      out.since = 0;
      step.reason = "CARotationCompleted";
      return step;
  }
  return step;
}

std::string caRotationRequest(const ZkCluster& c) {
  auto request = c.meta.annotations.find(kRotateCaAnnotation);
  return request == c.meta.annotations.end() ? "" : request->second;
}

CaUpdate updateOperatorCa(const ZkCluster& c, const std::optional<CaBundle>& stored,
                          std::int64_t now) {
  if (stored) {
    CaRotationStep step = advanceCaRotation(c, *stored, caRotationRequest(c), now);
    bool changed = !step.reason.empty();
    return {std::move(step), changed};
  }
  CaBundle ca{issueCa(c.meta.name + " zookube CA", now, c.spec.tls.caDurationSeconds), std::nullopt,
              std::nullopt, 0, caRotationRequest(c)};
  return {{std::move(ca), "", ""}, true};
}

CaUpdate followUserCa(const ZkCluster& c, const std::optional<CaBundle>& stored,
                      const KeyPair& user, const std::string& where, std::int64_t now) {
  if (!stored) return {{CaBundle{user, std::nullopt, std::nullopt, 0, ""}, "", ""}, true};
  const CaBundle& b = *stored;
  CaRotationStep step{b, "", ""};
  std::string news = where + " holds a new CA";
  switch (b.phase()) {
    case CaRotationPhase::kNone:
      if (!sameCertificate(user.certPem, b.current.certPem)) {
        step = trustNext(c, b, user, news, now);
      }
      break;
    case CaRotationPhase::kTrusting:
      if (sameCertificate(user.certPem, b.next->certPem)) {
        step = advanceCaRotation(c, b, b.request, now);
      } else if (sameCertificate(user.certPem, b.current.certPem)) {
        // Nothing was issued from the new CA yet: the members can stop trusting it at once.
        step.bundle.next.reset();
        step.bundle.since = 0;
        step.reason = "CARotationCancelled";
        step.message = where + " holds the CA " + fingerprint(b.current.certPem) +
                       " again: the CA " + fingerprint(b.next->certPem) +
                       " it held meanwhile is no longer trusted; nothing was issued from it";
      } else {
        step = trustNext(c, b, user, news + " again", now);
      }
      break;
    case CaRotationPhase::kSwitched:
      step = advanceCaRotation(c, b, b.request, now);
      break;
  }
  bool changed = !step.reason.empty();
  return {std::move(step), changed};
}

}  // namespace zk::op

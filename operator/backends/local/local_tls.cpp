#include "backends/local/local_tls.h"

#include <chrono>
#include <stdexcept>

#include "backends/local/state_store.h"
#include "render/certificates.h"

namespace zk::op::local {
namespace {

namespace fs = std::filesystem;

bool currentAt(const std::string& certPem, std::int64_t now, std::int64_t renewBefore) {
  if (certPem.empty()) return false;
  try {
    return !renewalDue(inspectCertificate(certPem), now, renewBefore);
  } catch (const CertificateError&) {
    return false;
  }
}

// Private keys: readable by the owner only (the state directory is the operator's).
void writePrivate(const fs::path& file, const std::string& content) {
  writeFileAtomically(file, content);
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
}

}  // namespace

std::int64_t unixSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

KeyPair ensureLocalCa(const ZkCluster& c, const fs::path& caDir, std::int64_t now) {
  KeyPair ca{readFile(caDir / "ca.key"), readFile(caDir / "ca.crt")};
  // The CA is renewed in the last third of its own lifetime, before any member outlives it.
  if (!ca.keyPem.empty() && currentAt(ca.certPem, now, c.spec.tls.caDurationSeconds / 3)) {
    return ca;
  }
  fs::create_directories(caDir);
  ca = issueCa(c.meta.name + " zookube CA", now, c.spec.tls.caDurationSeconds);
  writePrivate(caDir / "ca.key", ca.keyPem);
  writeFileAtomically(caDir / "ca.crt", ca.certPem);
  KeyPair client = issueCertificate(operatorCertificateRequest(c, now), ca);
  writePrivate(caDir / "operator.key", client.keyPem);
  writeFileAtomically(caDir / "operator.crt", client.certPem);
  return ca;
}

void ensureLocalTls(const ZkCluster& c, const Member& m, const fs::path& caDir,
                    const fs::path& memberTlsDir, std::int64_t now) {
  if (!c.spec.tls.enabled()) return;
  if (c.spec.tls.source != CertificateSource::kOperator) {
    throw std::runtime_error(
        "spec.tls: local mode issues certificates itself; issuerRef and secretRef need "
        "Kubernetes");
  }
  KeyPair ca = ensureLocalCa(c, caDir, now);
  fs::create_directories(memberTlsDir);
  fs::path keystore = memberTlsDir / keystoreFileName(m);
  if (readFile(memberTlsDir / "ca.crt") != ca.certPem) {
    writeFileAtomically(memberTlsDir / "ca.crt", ca.certPem);
  }
  std::string current = readFile(keystore);
  if (currentAt(current, now, c.spec.tls.renewBeforeSeconds) &&
      verifiesAgainst(current, ca.certPem, now)) {
    return;
  }
  KeyPair leaf = issueCertificate(memberCertificateRequest(c, m, "cluster.local", now), ca);
  writePrivate(keystore, leaf.keyPem + leaf.certPem);
}

}  // namespace zk::op::local

#include "backends/local/local_tls.h"

#include <chrono>
#include <stdexcept>

#include "backends/local/state_store.h"
#include "render/certificates.h"

namespace zk::op::local {
namespace {

namespace fs = std::filesystem;

// The CA Secret's keys (render/ca_rotation.h) and their files here: the issuing CA keeps the
// names local mode always gave it.
std::string fileOf(const std::string& key) {
  if (key == "tls.crt") return "ca.crt";
  if (key == "tls.key") return "ca.key";
  return key;
}

// In the order they are written, so that a state read back after a crash part-way through a
// step is one the rotation goes on from: the step's time first; a next CA only counts with both
// its files; the request answered after the CA that answers it (at worst asked again); the
// issuing key before its certificate (at the switch, a key without its certificate is still
// next.key's, and the switch is taken again).
constexpr const char* kCaKeys[] = {"rotation-since",   "previous.crt", "next.key", "next.crt",
                                   "rotation-request", "tls.key",      "tls.crt"};

bool isPrivate(const std::string& key) {
  return key.ends_with(".key");
}

// Private keys: readable by the owner only (the state directory is the operator's).
constexpr auto kOwnerOnly = fs::perms::owner_read | fs::perms::owner_write;

void writeIfChanged(const fs::path& file, const std::string& content, bool secret) {
  if (readFile(file) == content) return;
  if (secret) {
    writeFileAtomically(file, content, kOwnerOnly);
  } else {
    writeFileAtomically(file, content);
  }
}

// The state's files; those the state no longer has are removed after the others are written.
void writeLocalCa(const fs::path& caDir, const CaBundle& b) {
  fs::create_directories(caDir);
  StringMap files = caSecretFiles(b);
  for (const char* key : kCaKeys) {
    if (files.contains(key)) writeIfChanged(caDir / fileOf(key), files[key], isPrivate(key));
  }
  writeIfChanged(caDir / "trusted.crt", b.trustBundle(), false);
  for (const char* key : kCaKeys) {
    if (!files.contains(key)) fs::remove(caDir / fileOf(key));
  }
}

void ensureOperatorCertificate(const ZkCluster& c, const fs::path& caDir, const KeyPair& ca,
                               std::int64_t now) {
  if (keepsCertificate(readFile(caDir / "operator.crt"), ca.certPem, now,
                       c.spec.tls.renewBeforeSeconds) &&
      !readFile(caDir / "operator.key").empty()) {
    return;
  }
  KeyPair client = issueCertificate(operatorCertificateRequest(c, now), ca);
  writeFileAtomically(caDir / "operator.key", client.keyPem, kOwnerOnly);
  writeFileAtomically(caDir / "operator.crt", client.certPem);
}

}  // namespace

std::int64_t unixSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::optional<CaBundle> readLocalCa(const fs::path& caDir) {
  StringMap files;
  for (const char* key : kCaKeys) {
    std::string text = readFile(caDir / fileOf(key));
    if (!text.empty()) files[key] = text;
  }
  return caBundleOf(files);
}

CaRotationStep ensureLocalCa(const ZkCluster& c, const fs::path& caDir,
                             const std::optional<UserCa>& user, std::int64_t now) {
  CaUpdate update = user ? followUserCa(c, readLocalCa(caDir), user->ca, user->where, now)
                         : updateOperatorCa(c, readLocalCa(caDir), now);
  const CaBundle& b = update.step.bundle;
  if (update.store || readFile(caDir / "trusted.crt") != b.trustBundle()) writeLocalCa(caDir, b);
  ensureOperatorCertificate(c, caDir, b.current, now);
  return update.step;
}

std::string localTlsProblem(const ZkCluster& c) {
  if (!c.spec.tls.enabled() || c.spec.tls.source == CertificateSource::kOperator) return "";
  return "spec.tls: local mode issues certificates itself; issuerRef and secretRef need "
         "Kubernetes";
}

void ensureLocalTls(const ZkCluster& c, const Member& m, const CaBundle& ca,
                    const fs::path& memberTlsDir, std::int64_t now) {
  if (!c.spec.tls.enabled()) return;
  if (std::string problem = localTlsProblem(c); !problem.empty()) {
    throw std::runtime_error(problem);
  }
  fs::create_directories(memberTlsDir);
  std::string name = keystoreFileName(m);
  fs::path keystore = memberTlsDir / name;
  StringMap current{{name, readFile(keystore)}};
  StringMap files = memberKeystores(c, {m}, ca.current, current, now, "cluster.local");
  // The trust store before the keystore, as the rotation's steps go: trust a CA, then present
  // certificates from it.
  writeIfChanged(memberTlsDir / "ca.crt", ca.trustBundle(), false);
  writeIfChanged(keystore, files.at(name), true);
}

}  // namespace zk::op::local

#pragma once
// Keys and X.509 certificates for spec.tls, made with OpenSSL's library: the operator's CA and the
// members' server certificates. Pure apart from key generation's randomness: the caller passes
// the clock, so renewal decisions are testable on values.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "render/render.h"

namespace zk::op {

class CertificateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A private key and its certificate, both PEM.
struct KeyPair {
  std::string keyPem;
  std::string certPem;
  bool operator==(const KeyPair&) const = default;
};

struct CertificateRequest {
  std::string commonName;
  std::vector<std::string> dnsNames;
  std::vector<std::string> ipAddresses;
  std::int64_t notBefore = 0;  // seconds since the epoch
  std::int64_t lifetimeSeconds = 0;
};

// A self-signed CA (ECDSA P-256, basicConstraints CA:TRUE, keyCertSign).
KeyPair issueCa(std::string_view commonName, std::int64_t now, std::int64_t lifetimeSeconds);

// A leaf certificate signed by `ca`, usable as a TLS server and client (serverAuth, clientAuth).
// It never outlives the CA. Throws CertificateError.
KeyPair issueCertificate(const CertificateRequest& request, const KeyPair& ca);

// What the operator reads back from a certificate (its own or one it was given).
struct CertificateInfo {
  std::string subject;  // OpenSSL's one-line form, "CN=zk-0"
  std::int64_t notBefore = 0;
  std::int64_t notAfter = 0;
  std::vector<std::string> dnsNames;
  std::vector<std::string> ipAddresses;
  std::string sha256Fingerprint;  // "AB:CD:..." as openssl x509 -fingerprint prints it
};

// The first certificate of `pem`. Throws CertificateError.
CertificateInfo inspectCertificate(std::string_view pem);

// Whether the first certificate of `certPem` is signed by the first of `caPem`'s and valid at
// `now`.
bool verifiesAgainst(std::string_view certPem, std::string_view caPem, std::int64_t now);

// Due for renewal: inside the window of `renewBeforeSeconds` before notAfter (or expired).
bool renewalDue(const CertificateInfo& cert, std::int64_t now, std::int64_t renewBeforeSeconds);

// Whether a certificate the operator issued can stay: it reads, chains to `caPem` and is outside
// its renewal window. Anything else (missing, unreadable, from another CA) is issued anew.
bool keepsCertificate(std::string_view certPem, std::string_view caPem, std::int64_t now,
                      std::int64_t renewBeforeSeconds);

// Every name a member is reached by: <pod>.<headless>, its .<ns>, .<ns>.svc and
// .<ns>.svc.<domain> forms, the same four of the client Service, and localhost for local mode.
std::vector<std::string> memberDnsNames(const ZkCluster& c, const Member& m,
                                        std::string_view clusterDomain);
inline const std::vector<std::string> kLoopbackAddresses{"127.0.0.1", "::1"};

// The name the operator checks a member's certificate for: <pod>.<headless>.<ns>.svc, which
// every certificate of a member must cover (its own, cert-manager's, a user's).
std::string memberVerifyName(const ZkCluster& c, const Member& m);

// The request for member `m`'s server certificate at `now`.
CertificateRequest memberCertificateRequest(const ZkCluster& c, const Member& m,
                                            std::string_view clusterDomain, std::int64_t now);

// The operator's own client certificate, for its srvr/reconfig connection when clientAuth needs
// one.
CertificateRequest operatorCertificateRequest(const ZkCluster& c, std::int64_t now);

// A certificate someone else issued for a member (spec.tls.secretRef, cert-manager), in
// cert-manager's Secret layout.
struct ProvidedCertificate {
  std::string certPem;  // tls.crt
  std::string keyPem;   // tls.key
  std::string caPem;    // ca.crt
};

// What keeps `p` from serving member `m` at `now`, in one line naming the member ("" when
// nothing): unreadable PEM, a key that is not the certificate's, a chain that does not verify
// against ca.crt (or expired, or not yet valid), SANs that do not cover memberVerifyName (a
// wildcard for the first label counts).
std::string certificateProblem(const ZkCluster& c, const Member& m, const ProvidedCertificate& p,
                               std::int64_t now);

// What keeps `ca` (a CA the user gives, spec.tls.caSecretRef) from issuing at `now`, in one
// line ("" when nothing): unreadable PEM, a key that is not the certificate's, a certificate that
// is no CA (basicConstraints CA:TRUE), expired or not valid yet.
std::string caProblem(const KeyPair& ca, std::int64_t now);

// Names of the Secrets: the CA (tls.crt, tls.key), and the members' one: a StatefulSet's pods
// share one pod template, so every member's keystore (<member>.pem: key, then certificate) sits
// in one Secret, beside ca.crt, and each member's zoo.cfg names its own file.
std::string caSecretName(const ZkCluster& c);
// The operator's own CA Secret, <name>-zk-ca: its CA, or with tls.caSecretRef its copy of the
// user's CA that issues and the rotation's state (render/ca_rotation.h).
std::string operatorCaSecretName(const ZkCluster& c);
std::string tlsSecretName(const ZkCluster& c);
std::string keystoreFileName(const Member& m);

// The members' TLS Secret's files: ca.crt, and <member>.pem for each of `ms`. A keystore in
// `current` is kept while it chains to `ca` and is outside its renewal window; the others are
// issued anew, so the Secret changes only when something is due.
StringMap memberKeystores(const ZkCluster& c, const std::vector<Member>& ms, const KeyPair& ca,
                          const StringMap& current, std::int64_t now,
                          std::string_view clusterDomain);

}  // namespace zk::op

// Certificates through OpenSSL's X509 API: EVP keys, X509 objects, X509V3 extensions.
#include "render/certificates.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <memory>

#include "render/tls_status.h"

namespace zk::op {
namespace {

template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};
using Key = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Deleter<X509_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO_free>>;
using Store = std::unique_ptr<X509_STORE, Deleter<X509_STORE_free>>;
using StoreCtx = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX_free>>;
using Names = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES_free>>;

void check(bool ok, const char* what) {
  if (!ok) throw CertificateError(std::string("OpenSSL: ") + what + " failed");
}

Key newKey() {
  Key key(EVP_EC_gen("P-256"));
  check(key != nullptr, "EVP_EC_gen");
  return key;
}

Bio memory(std::string_view text) {
  Bio bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  check(bio != nullptr, "BIO_new_mem_buf");
  return bio;
}

std::string drain(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

Cert readCert(std::string_view pem) {
  Bio bio = memory(pem);
  Cert cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) throw CertificateError("not a PEM certificate");
  return cert;
}

Key readKey(std::string_view pem) {
  Bio bio = memory(pem);
  Key key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) throw CertificateError("not a PEM private key");
  return key;
}

KeyPair pemOf(const Key& key, const Cert& cert) {
  Bio keyOut(BIO_new(BIO_s_mem()));
  Bio certOut(BIO_new(BIO_s_mem()));
  check(keyOut && certOut, "BIO_new");
  check(PEM_write_bio_PrivateKey(keyOut.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr),
        "PEM_write_bio_PrivateKey");
  check(PEM_write_bio_X509(certOut.get(), cert.get()), "PEM_write_bio_X509");
  return {drain(keyOut.get()), drain(certOut.get())};
}

void addExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>> ext(
      X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  check(ext != nullptr, "X509V3_EXT_conf_nid");
  check(X509_add_ext(cert, ext.get(), -1) == 1, "X509_add_ext");
}

// A certificate for `key` with a random serial, `subject` and validity; extensions come after.
Cert newCert(const EVP_PKEY* key, std::string_view commonName, std::int64_t notBefore,
             std::int64_t notAfter) {
  Cert cert(X509_new());
  check(cert != nullptr, "X509_new");
  check(X509_set_version(cert.get(), X509_VERSION_3) == 1, "X509_set_version");
  std::unique_ptr<BIGNUM, Deleter<BN_free>> serial(BN_new());
  check(serial && BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1, "BN_rand");
  check(BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) != nullptr,
        "BN_to_ASN1_INTEGER");
  X509_NAME* name = X509_get_subject_name(cert.get());
  std::string cn(commonName);
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                   0) == 1,
        "X509_NAME_add_entry_by_txt");
  check(ASN1_TIME_set(X509_getm_notBefore(cert.get()), static_cast<time_t>(notBefore)) != nullptr,
        "ASN1_TIME_set");
  check(ASN1_TIME_set(X509_getm_notAfter(cert.get()), static_cast<time_t>(notAfter)) != nullptr,
        "ASN1_TIME_set");
  check(X509_set_pubkey(cert.get(), const_cast<EVP_PKEY*>(key)) == 1, "X509_set_pubkey");
  return cert;
}

std::int64_t epochOf(const ASN1_TIME* t) {
  struct tm tm {};
  check(ASN1_TIME_to_tm(t, &tm) == 1, "ASN1_TIME_to_tm");
  return static_cast<std::int64_t>(timegm(&tm));
}

std::string ipText(const ASN1_OCTET_STRING* ip) {
  Bio out(BIO_new(BIO_s_mem()));
  GENERAL_NAME name{};
  name.type = GEN_IPADD;
  name.d.iPAddress = const_cast<ASN1_OCTET_STRING*>(ip);
  GENERAL_NAME_print(out.get(), &name);  // "IP Address:127.0.0.1"
  std::string s = drain(out.get());
  auto colon = s.find(':');
  return colon == std::string::npos ? s : s.substr(colon + 1);
}

}  // namespace

KeyPair issueCa(std::string_view commonName, std::int64_t now, std::int64_t lifetimeSeconds) {
  Key key = newKey();
  Cert cert = newCert(key.get(), commonName, now, now + lifetimeSeconds);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
  addExtension(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE");
  addExtension(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  addExtension(cert.get(), cert.get(), NID_subject_key_identifier, "hash");
  check(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0, "X509_sign");
  return pemOf(key, cert);
}

KeyPair issueCertificate(const CertificateRequest& request, const KeyPair& ca) {
  Cert caCert = readCert(ca.certPem);
  Key caKey = readKey(ca.keyPem);
  Key key = newKey();
  std::int64_t notAfter = std::min(request.notBefore + request.lifetimeSeconds,
                                   epochOf(X509_get0_notAfter(caCert.get())));
  Cert cert = newCert(key.get(), request.commonName, request.notBefore, notAfter);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(caCert.get()));
  addExtension(cert.get(), caCert.get(), NID_basic_constraints, "critical,CA:FALSE");
  addExtension(cert.get(), caCert.get(), NID_key_usage, "critical,digitalSignature");
  addExtension(cert.get(), caCert.get(), NID_ext_key_usage, "serverAuth,clientAuth");
  addExtension(cert.get(), caCert.get(), NID_authority_key_identifier, "keyid");
  std::string san;
  for (const std::string& dns : request.dnsNames) san += (san.empty() ? "" : ",") + ("DNS:" + dns);
  for (const std::string& ip : request.ipAddresses) san += (san.empty() ? "" : ",") + ("IP:" + ip);
  if (!san.empty()) addExtension(cert.get(), caCert.get(), NID_subject_alt_name, san);
  check(X509_sign(cert.get(), caKey.get(), EVP_sha256()) > 0, "X509_sign");
  return pemOf(key, cert);
}

CertificateInfo inspectCertificate(std::string_view pem) {
  Cert cert = readCert(pem);
  CertificateInfo info;
  Bio subject(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(subject.get(), X509_get_subject_name(cert.get()), 0, XN_FLAG_RFC2253);
  info.subject = drain(subject.get());
  info.notBefore = epochOf(X509_get0_notBefore(cert.get()));
  info.notAfter = epochOf(X509_get0_notAfter(cert.get()));
  Names names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names.get(), i);
    if (n->type == GEN_DNS) {
      const ASN1_IA5STRING* dns = n->d.dNSName;
      info.dnsNames.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                                 static_cast<size_t>(ASN1_STRING_length(dns)));
    } else if (n->type == GEN_IPADD) {
      info.ipAddresses.push_back(ipText(n->d.iPAddress));
    }
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  check(X509_digest(cert.get(), EVP_sha256(), digest.data(), &len) == 1, "X509_digest");
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned int i = 0; i < len; ++i) {
    if (i) info.sha256Fingerprint += ':';
    info.sha256Fingerprint += kHex[digest[i] >> 4];
    info.sha256Fingerprint += kHex[digest[i] & 15];
  }
  return info;
}

bool verifiesAgainst(std::string_view certPem, std::string_view caPem, std::int64_t now) {
  Cert cert = readCert(certPem);
  Cert ca = readCert(caPem);
  Store store(X509_STORE_new());
  StoreCtx ctx(X509_STORE_CTX_new());
  check(store && ctx, "X509_STORE_new");
  check(X509_STORE_add_cert(store.get(), ca.get()) == 1, "X509_STORE_add_cert");
  check(X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr) == 1,
        "X509_STORE_CTX_init");
  X509_STORE_CTX_set_time(ctx.get(), 0, static_cast<time_t>(now));
  return X509_verify_cert(ctx.get()) == 1;
}

bool renewalDue(const CertificateInfo& cert, std::int64_t now, std::int64_t renewBeforeSeconds) {
  return now >= cert.notAfter - renewBeforeSeconds;
}

std::vector<std::string> memberDnsNames(const ZkCluster& c, const Member& m,
                                        std::string_view clusterDomain) {
  std::vector<std::string> names;
  auto forms = [&](const std::string& base) {
    names.push_back(base);
    names.push_back(base + "." + c.meta.ns);
    names.push_back(base + "." + c.meta.ns + ".svc");
    names.push_back(base + "." + c.meta.ns + ".svc." + std::string(clusterDomain));
  };
  forms(m.name + "." + headlessServiceName(c));
  forms(clientServiceName(c));
  names.push_back("localhost");
  return names;
}

std::string memberVerifyName(const ZkCluster& c, const Member& m) {
  return m.name + "." + headlessServiceName(c) + "." + c.meta.ns + ".svc";
}

CertificateRequest memberCertificateRequest(const ZkCluster& c, const Member& m,
                                            std::string_view clusterDomain, std::int64_t now) {
  return {m.name + "." + headlessServiceName(c), memberDnsNames(c, m, clusterDomain),
          kLoopbackAddresses, now, c.spec.tls.durationSeconds};
}

CertificateRequest operatorCertificateRequest(const ZkCluster& c, std::int64_t now) {
  return {
      "zookube-operator." + c.meta.ns + "." + c.meta.name, {}, {}, now, c.spec.tls.durationSeconds};
}

namespace {

bool covers(const std::vector<std::string>& sans, const std::string& name) {
  std::string parent = name.substr(name.find('.'));
  return std::any_of(sans.begin(), sans.end(), [&](const std::string& san) {
    return san == name || (san.starts_with("*.") && san.substr(1) == parent);
  });
}

// Usable as both ends of a TLS connection: an extended key usage naming serverAuth and
// clientAuth, or none at all (which restricts nothing).
bool servesAndDials(std::string_view certPem) {
  Cert cert = readCert(certPem);
  std::uint32_t usages = X509_get_extended_key_usage(cert.get());
  return (usages & XKU_SSL_SERVER) && (usages & XKU_SSL_CLIENT);
}

}  // namespace

std::string certificateProblem(const ZkCluster& c, const Member& m, const ProvidedCertificate& p,
                               std::int64_t now) {
  std::string who = m.name + ": ";
  CertificateInfo info;
  try {
    info = inspectCertificate(p.certPem);
  } catch (const CertificateError&) {
    return who + "tls.crt is not a PEM certificate";
  }
  try {
    Key key = readKey(p.keyPem);
    Cert cert = readCert(p.certPem);
    if (X509_check_private_key(cert.get(), key.get()) != 1) {
      ERR_clear_error();
      return who + "tls.key is not the key of tls.crt";
    }
  } catch (const CertificateError&) {
    return who + "tls.key is not a PEM private key";
  }
  bool trusted = false;
  try {
    trusted = verifiesAgainst(p.certPem, p.caPem, now);
  } catch (const CertificateError&) {
    return who + "ca.crt is missing or not a PEM certificate";
  }
  if (now >= info.notAfter) return who + "tls.crt expired at " + rfc3339(info.notAfter);
  if (!trusted) return who + "tls.crt is not signed by ca.crt, or not valid yet";
  std::string name = memberVerifyName(c, m);
  if (!covers(info.dnsNames, name)) return who + "tls.crt does not name " + name;
  // With tls.quorum a member dials its peers with the same certificate it serves with.
  if (c.spec.tls.quorum && !servesAndDials(p.certPem)) {
    return who + "tls.crt lacks the clientAuth or serverAuth extended key usage tls.quorum needs";
  }
  return {};
}

std::string caProblem(const KeyPair& ca, std::int64_t now) {
  Cert cert;
  try {
    cert = readCert(ca.certPem);
  } catch (const CertificateError&) {
    return "tls.crt is not a PEM certificate";
  }
  try {
    Key key = readKey(ca.keyPem);
    if (X509_check_private_key(cert.get(), key.get()) != 1) {
      ERR_clear_error();
      return "tls.key is not the key of tls.crt";
    }
  } catch (const CertificateError&) {
    return "tls.key is not a PEM private key";
  }
  if (X509_check_ca(cert.get()) != 1) return "tls.crt is not a CA certificate (basicConstraints)";
  CertificateInfo info = inspectCertificate(ca.certPem);
  if (now >= info.notAfter) return "tls.crt expired at " + rfc3339(info.notAfter);
  if (now < info.notBefore) return "tls.crt is not valid before " + rfc3339(info.notBefore);
  return {};
}

std::string caSecretName(const ZkCluster& c) {
  return c.spec.tls.caSecretName.value_or(operatorCaSecretName(c));
}

std::string operatorCaSecretName(const ZkCluster& c) {
  return c.meta.name + "-zk-ca";
}

bool keepsCertificate(std::string_view certPem, std::string_view caPem, std::int64_t now,
                      std::int64_t renewBeforeSeconds) {
  if (certPem.empty()) return false;
  try {
    return verifiesAgainst(certPem, caPem, now) &&
           !renewalDue(inspectCertificate(certPem), now, renewBeforeSeconds);
  } catch (const CertificateError&) {
    return false;  // unreadable: issue a new one
  }
}

StringMap memberKeystores(const ZkCluster& c, const std::vector<Member>& ms, const KeyPair& ca,
                          const StringMap& current, std::int64_t now,
                          std::string_view clusterDomain) {
  StringMap files{{"ca.crt", ca.certPem}};
  for (const Member& m : ms) {
    std::string name = keystoreFileName(m);
    auto it = current.find(name);
    if (it != current.end() &&
        keepsCertificate(it->second, ca.certPem, now, c.spec.tls.renewBeforeSeconds)) {
      files[name] = it->second;
    } else {
      KeyPair leaf = issueCertificate(memberCertificateRequest(c, m, clusterDomain, now), ca);
      files[name] = leaf.keyPem + leaf.certPem;
    }
  }
  return files;
}

std::string tlsSecretName(const ZkCluster& c) {
  return c.meta.name + "-zk-tls";
}

std::string keystoreFileName(const Member& m) {
  return m.name + ".pem";
}

}  // namespace zk::op

#include "net/tls_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509v3.h>

#include <array>
#include <fstream>
#include <sstream>
#include <vector>

namespace zk {
namespace {

namespace fs = std::filesystem;

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct Pkcs12Free {
  void operator()(PKCS12* p) const { PKCS12_free(p); }
};
struct StackFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_pop_free(s, X509_free); }
};
using Bio = std::unique_ptr<BIO, BioFree>;
using Cert = std::unique_ptr<X509, X509Free>;
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;

// What a store holds: a key and its certificate chain (key store) or certificates to trust.
struct StoreContents {
  Key key;
  std::vector<Cert> certificates;  // the key's own certificate first
};

std::string openSslError() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  std::array<char, 256> text{};
  ERR_error_string_n(code, text.data(), text.size());
  return text.data();
}

Bio readFile(const std::string& path, std::string_view key) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw TlsSetupError(std::string(key) + ": cannot read " + path);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  std::string data = bytes.str();
  Bio bio(BIO_new(BIO_s_mem()));
  BIO_write(bio.get(), data.data(), static_cast<int>(data.size()));
  return bio;
}

StoreContents readPem(const std::string& path, const std::string& password, std::string_view key,
                      bool wantKey) {
  StoreContents out;
  Bio certs = readFile(path, key);
  while (X509* cert = PEM_read_bio_X509(certs.get(), nullptr, nullptr, nullptr))
    out.certificates.emplace_back(cert);
  ERR_clear_error();  // the loop ends on "no start line"
  if (wantKey) {
    Bio keys = readFile(path, key);
    // With no callback OpenSSL takes the last argument as the key's passphrase.
    out.key.reset(
        PEM_read_bio_PrivateKey(keys.get(), nullptr, nullptr, const_cast<char*>(password.c_str())));
    if (!out.key)
      throw TlsSetupError(std::string(key) + ": no usable private key in " + path + " (" +
                          openSslError() + ")");
  }
  return out;
}

StoreContents readPkcs12(const std::string& path, const std::string& password,
                         std::string_view key) {
  Bio bio = readFile(path, key);
  std::unique_ptr<PKCS12, Pkcs12Free> p12(d2i_PKCS12_bio(bio.get(), nullptr));
  if (!p12) throw TlsSetupError(std::string(key) + ": " + path + " is not a PKCS12 store");
  EVP_PKEY* pkey = nullptr;
  X509* cert = nullptr;
  STACK_OF(X509)* ca = nullptr;
  if (PKCS12_parse(p12.get(), password.c_str(), &pkey, &cert, &ca) != 1)
    throw TlsSetupError(std::string(key) + ": cannot open " + path +
                        " (wrong password?): " + openSslError());
  StoreContents out;
  out.key.reset(pkey);
  std::unique_ptr<STACK_OF(X509), StackFree> chain(ca);
  if (cert != nullptr) out.certificates.emplace_back(cert);
  while (chain && sk_X509_num(chain.get()) > 0)
    out.certificates.emplace_back(sk_X509_shift(chain.get()));
  return out;
}

StoreContents readStore(const std::string& path, const std::string& password,
                        const std::string& type, std::string_view key, bool wantKey) {
  StoreContents out =
      type == "PKCS12" ? readPkcs12(path, password, key) : readPem(path, password, key, wantKey);
  if (out.certificates.empty())
    throw TlsSetupError(std::string(key) + ": no certificate in " + path);
  if (wantKey && !out.key) throw TlsSetupError(std::string(key) + ": no private key in " + path);
  return out;
}

void useKeyStore(SSL_CTX* ctx, const TlsSettings& s) {
  StoreContents store = readStore(s.keyStoreLocation, s.keyStorePassword, s.keyStoreType,
                                  s.keyPrefix + "keyStore.location", true);
  if (SSL_CTX_use_certificate(ctx, store.certificates.front().get()) != 1 ||
      SSL_CTX_use_PrivateKey(ctx, store.key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1)
    throw TlsSetupError(s.keyPrefix + "keyStore.location: " + s.keyStoreLocation +
                        ": the key does not fit its certificate: " + openSslError());
  for (std::size_t i = 1; i < store.certificates.size(); ++i)
    SSL_CTX_add1_chain_cert(ctx, store.certificates[i].get());
}

void useTrustStore(SSL_CTX* ctx, const TlsSettings& s) {
  if (s.trustStoreLocation.empty()) {
    SSL_CTX_set_default_verify_paths(ctx);  // as Java falls back to its own cacerts
    return;
  }
  StoreContents store = readStore(s.trustStoreLocation, s.trustStorePassword, s.trustStoreType,
                                  s.keyPrefix + "trustStore.location", false);
  X509_STORE* trusted = SSL_CTX_get_cert_store(ctx);
  STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
  for (const Cert& cert : store.certificates) {
    X509_STORE_add_cert(trusted, cert.get());
    sk_X509_NAME_push(names, X509_NAME_dup(X509_get_subject_name(cert.get())));
  }
  SSL_CTX_set_client_CA_list(ctx, names);  // takes ownership
}

int protocolVersion(std::string_view name, bool upper) {
  if (name == "TLSv1.3") return TLS1_3_VERSION;
  if (name == "TLSv1.2") return TLS1_2_VERSION;
  if (name == "TLSv1.1") return TLS1_1_VERSION;
  if (name == "TLSv1") return TLS1_VERSION;
  return upper ? TLS1_3_VERSION : TLS1_2_VERSION;  // "TLS": the versions worth having
}

void useProtocols(SSL_CTX* ctx, const TlsSettings& s) {
  std::vector<std::string> enabled = s.enabledProtocols;
  if (enabled.empty()) enabled.push_back(s.protocol);
  int lowest = TLS1_3_VERSION;
  int highest = TLS1_VERSION;
  for (const std::string& name : enabled) {
    lowest = std::min(lowest, protocolVersion(name, false));
    highest = std::max(highest, protocolVersion(name, true));
  }
  SSL_CTX_set_min_proto_version(ctx, lowest);
  SSL_CTX_set_max_proto_version(ctx, highest);
}

// ssl.ciphersuites names suites as Java (and IANA) do; OpenSSL has its own names for TLS 1.2.
void useCipherSuites(SSL_CTX* ctx, const TlsSettings& s) {
  if (s.cipherSuites.empty()) return;
  SSL_CTX_set_cipher_list(ctx, "ALL:COMPLEMENTOFALL");
  std::string tls12;
  std::string tls13;
  STACK_OF(SSL_CIPHER)* known = SSL_CTX_get_ciphers(ctx);
  for (const std::string& wanted : s.cipherSuites) {
    for (int i = 0; i < sk_SSL_CIPHER_num(known); ++i) {
      const SSL_CIPHER* c = sk_SSL_CIPHER_value(known, i);
      const char* standard = SSL_CIPHER_standard_name(c);
      if (standard == nullptr || wanted != standard) continue;
      bool v13 = std::string_view(SSL_CIPHER_get_version(c)) == "TLSv1.3";
      std::string& list = v13 ? tls13 : tls12;
      list += (list.empty() ? "" : ":") + std::string(SSL_CIPHER_get_name(c));
    }
  }
  if (tls12.empty() && tls13.empty())
    throw TlsSetupError(s.keyPrefix + "ciphersuites: none of the suites is known to OpenSSL");
  // An empty list would leave no suite for that protocol version: keep it refused instead.
  if (!tls12.empty()) SSL_CTX_set_cipher_list(ctx, tls12.c_str());
  SSL_CTX_set_ciphersuites(ctx, tls13.c_str());
  if (tls12.empty()) SSL_CTX_set_cipher_list(ctx, "aNULL:!aNULL");
}

std::shared_ptr<ssl::context> build(const TlsSettings& s) {
  // Either role: the quorum's contexts both accept and dial.
  auto context = std::make_shared<ssl::context>(ssl::context::tls);
  SSL_CTX* ctx = context->native_handle();
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  useProtocols(ctx, s);
  useCipherSuites(ctx, s);
  useKeyStore(ctx, s);
  useTrustStore(ctx, s);
  int verify = s.clientAuth == ClientAuth::kNone ? SSL_VERIFY_NONE
               : s.clientAuth == ClientAuth::kWant
                   ? SSL_VERIFY_PEER
                   : SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  SSL_CTX_set_verify(ctx, verify, nullptr);
  // Session resumption with client certificates needs a context id.
  static constexpr unsigned char kSessionContext[] = "zookube";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  return context;
}

fs::file_time_type modified(const std::string& path) {
  std::error_code ec;
  auto t = path.empty() ? fs::file_time_type{} : fs::last_write_time(path, ec);
  return ec ? fs::file_time_type{} : t;
}

// Java's X500Principal.getName(): these attribute types by keyword, the rest by OID.
const char* rfc2253Keyword(int nid) {
  switch (nid) {
    case NID_commonName:
      return "CN";
    case NID_countryName:
      return "C";
    case NID_localityName:
      return "L";
    case NID_stateOrProvinceName:
      return "ST";
    case NID_organizationName:
      return "O";
    case NID_organizationalUnitName:
      return "OU";
    case NID_streetAddress:
      return "STREET";
    case NID_domainComponent:
      return "DC";
    case NID_userId:
      return "UID";
    default:
      return nullptr;
  }
}

// RFC 2253 escaping as Java's AVA does it: the special characters anywhere, a space at either
// end.
std::string escapeValue(std::string_view value) {
  std::string out;
  for (std::size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    bool edgeSpace = c == ' ' && (i == 0 || i + 1 == value.size());
    if (edgeSpace || std::string_view(",=+<>#;\"\\").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

std::string attribute(X509_NAME_ENTRY* entry) {
  ASN1_OBJECT* type = X509_NAME_ENTRY_get_object(entry);
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(entry);
  if (const char* keyword = rfc2253Keyword(OBJ_obj2nid(type))) {
    unsigned char* utf8 = nullptr;
    int n = ASN1_STRING_to_UTF8(&utf8, data);
    std::string value = n < 0 ? std::string() : std::string(reinterpret_cast<char*>(utf8), n);
    OPENSSL_free(utf8);
    return std::string(keyword) + "=" + escapeValue(value);
  }
  std::array<char, 128> oid{};
  OBJ_obj2txt(oid.data(), oid.size(), type, 1);
  // The value's DER encoding in hex: tag, length, content.
  std::unique_ptr<ASN1_TYPE, decltype(&ASN1_TYPE_free)> any(ASN1_TYPE_new(), ASN1_TYPE_free);
  ASN1_TYPE_set1(any.get(), ASN1_STRING_type(data), data);
  unsigned char* der = nullptr;
  int n = i2d_ASN1_TYPE(any.get(), &der);
  std::string hex;
  static constexpr char kDigits[] = "0123456789abcdef";
  for (int i = 0; i < n; ++i) {
    hex += kDigits[der[i] >> 4];
    hex += kDigits[der[i] & 15];
  }
  OPENSSL_free(der);
  return std::string(oid.data()) + "=#" + hex;
}

}  // namespace

TlsContextSource::TlsContextSource(TlsSettings settings, bool followFileChanges,
                                   std::chrono::milliseconds retryAfterFailure)
    : settings_(std::move(settings)),
      followFileChanges_(followFileChanges),
      retryAfterFailure_(retryAfterFailure),
      built_(stamp()),
      context_(build(settings_)) {}

TlsContextSource::Stamp TlsContextSource::stamp() const {
  return {modified(settings_.keyStoreLocation), modified(settings_.trustStoreLocation)};
}

std::shared_ptr<ssl::context> TlsContextSource::current(Logger& log) {
  if (!followFileChanges_) return context_;
  Stamp now = stamp();
  auto clock = std::chrono::steady_clock::now();
  bool retry = failedAt_ && clock - *failedAt_ >= retryAfterFailure_;
  if (now == built_ && !retry) return context_;
  built_ = now;
  try {
    context_ = build(settings_);
    failedAt_.reset();
    log.info("tls", "key or trust store changed: new handshakes use the new certificates");
  } catch (const TlsSetupError& e) {
    failedAt_ = clock;
    log.error("tls", std::string("cannot reload the changed stores, keeping the previous ones "
                                 "and trying again in ") +
                         std::to_string(retryAfterFailure_.count()) + " ms: " + e.what());
  }
  return context_;
}

std::string x509SubjectId(X509* certificate) {
  X509_NAME* name = X509_get_subject_name(certificate);
  // RDNs most specific first, as RFC 2253 writes them; the attributes of one RDN in their
  // stored order, joined by '+'.
  std::vector<std::string> rdns;
  int previousSet = -1;
  for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
    X509_NAME_ENTRY* entry = X509_NAME_get_entry(name, i);
    int set = X509_NAME_ENTRY_set(entry);
    if (set == previousSet) {
      rdns.back() += "+" + attribute(entry);
    } else {
      rdns.push_back(attribute(entry));
    }
    previousSet = set;
  }
  std::string out;
  for (auto rdn = rdns.rbegin(); rdn != rdns.rend(); ++rdn) out += (out.empty() ? "" : ",") + *rdn;
  return out;
}

}  // namespace zk

#include "net/tls_context.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace zk {
namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using Cert = std::unique_ptr<X509, X509Free>;

// A certificate whose subject is `rdns` (each an RDN of type=value pairs, most general
// first), read back from DER as a peer's certificate would be.
Cert certificateWith(const std::vector<std::vector<std::pair<std::string, std::string>>>& rdns) {
  Cert cert(X509_new());
  X509_NAME* name = X509_get_subject_name(cert.get());
  for (const auto& rdn : rdns) {
    bool first = true;
    for (const auto& [type, value] : rdn) {
      X509_NAME_add_entry_by_txt(name, type.c_str(), MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1,
                                 first ? 0 : -1);
      first = false;
    }
  }
  unsigned char* der = nullptr;
  int length = i2d_X509_NAME(name, &der);
  const unsigned char* in = der;
  X509_NAME* decoded = d2i_X509_NAME(nullptr, &in, length);
  OPENSSL_free(der);
  X509_set_subject_name(cert.get(), decoded);
  X509_NAME_free(decoded);
  return cert;
}

// The expected strings are what Java 17's X500Principal.getName() printed for certificates
// with the same subjects, made by `openssl req -subj`.
TEST(X509SubjectId, WritesTheDnAsJavasX500Principal) {
  Cert plain = certificateWith({{{"O", "Zoo"}}, {{"CN", "client two"}}});
  EXPECT_EQ(x509SubjectId(plain.get()), "CN=client two,O=Zoo");

  Cert tricky = certificateWith({{{"C", "US"}},
                                 {{"O", "Zoo, Inc."}},
                                 {{"OU", "test"}, {"UID", "7"}},
                                 {{"CN", "client=one #1"}},
                                 {{"emailAddress", "a@b.c"}}});
  EXPECT_EQ(x509SubjectId(tricky.get()),
            "1.2.840.113549.1.9.1=#16056140622e63,CN=client\\=one \\#1,OU=test+UID=7,"
            "O=Zoo\\, Inc.,C=US");
}

TEST(TlsContextSource, RefusesStoresItCannotRead) {
  TlsSettings settings;
  settings.keyStoreLocation = "/nonexistent/keystore.pem";
  settings.keyStoreType = "PEM";
  try {
    TlsContextSource source(settings);
    FAIL() << "no error";
  } catch (const TlsSetupError& e) {
    EXPECT_EQ(std::string(e.what()),
              "ssl.keyStore.location: cannot read /nonexistent/keystore.pem");
  }
}

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};

// A PEM key store: a fresh EC key and a self-signed certificate for it.
std::string selfSignedStore() {
  std::unique_ptr<EVP_PKEY, KeyFree> key(EVP_EC_gen("P-256"));
  Cert cert = certificateWith({{{"CN", "reload"}}});
  X509_set_version(cert.get(), 2);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_sign(cert.get(), key.get(), EVP_sha256());
  std::unique_ptr<BIO, BioFree> out(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(out.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  PEM_write_bio_X509(out.get(), cert.get());
  char* data = nullptr;
  long size = BIO_get_mem_data(out.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

void writeFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

// A store read half-written fails to load; when it is completed within the same timestamp the
// source must still pick it up, by trying again after a failure.
TEST(TlsContextSource, RetriesAFailedReloadWhenTheStoreIsCompletedUnseen) {
  auto dir =
      std::filesystem::temp_directory_path() / ("zookube-tls-reload-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto path = dir / "keystore.pem";
  std::string first = selfSignedStore();
  writeFile(path, first);
  TlsSettings settings;
  settings.keyStoreLocation = path.string();
  settings.keyStoreType = "PEM";
  Logger log(LogLevel::kError);
  TlsContextSource source(settings, true, std::chrono::milliseconds(0));
  auto original = source.current(log);
  auto stamp = std::filesystem::last_write_time(path);

  std::string second = selfSignedStore();
  writeFile(path, second.substr(0, second.size() / 2));
  std::filesystem::last_write_time(path, stamp + std::chrono::seconds(1));
  EXPECT_EQ(source.current(log), original) << "a half-written store replaced the context";

  writeFile(path, second);  // completed, and the timestamp does not move
  std::filesystem::last_write_time(path, stamp + std::chrono::seconds(1));
  auto reloaded = source.current(log);
  EXPECT_NE(reloaded, original);
  EXPECT_EQ(source.current(log), reloaded) << "rebuilt again with nothing changed";
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace zk

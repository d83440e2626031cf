#include "net/tls_context.h"

#include <gtest/gtest.h>
#include <openssl/x509.h>

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

}  // namespace
}  // namespace zk

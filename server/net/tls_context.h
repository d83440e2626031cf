#pragma once
// The client port's TLS: ZooKeeper's ssl.* settings turned into an OpenSSL context (PEM and
// PKCS12 key and trust stores, clientAuth, protocols, cipher suites), rebuilt when a store file
// changes so that new handshakes use rotated certificates without a restart, and the x509
// identity ZooKeeper's X509AuthenticationProvider gives a client certificate.

#include <openssl/ssl.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "net/asio.h"  // first: it fixes a missing include of Boost 1.74

#include <boost/asio/ssl.hpp>

#include "config/zoo_config.h"
#include "util/log.h"

namespace zk {

namespace ssl = boost::asio::ssl;

// A store that cannot be read or used; the message names the key and the reason.
class TlsSetupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class TlsContextSource {
 public:
  // Builds the first context; throws TlsSetupError. Without followFileChanges the stores are
  // read once (ZooKeeper's quorum without sslQuorumReloadCertFiles).
  explicit TlsContextSource(TlsSettings settings, bool followFileChanges = true,
                            std::chrono::milliseconds retryAfterFailure = kRetryAfterFailure);

  // A failed rebuild is tried again after this even if no store changes again: a store read
  // half-written may be completed within the file system's timestamp granularity.
  static constexpr std::chrono::milliseconds kRetryAfterFailure{5000};

  const TlsSettings& settings() const { return settings_; }

  // The context for a new handshake. When a store file changed since the last build it is
  // rebuilt first; a rebuild that fails is logged, the previous context kept, and the rebuild
  // tried again on a handshake at least retryAfterFailure later.
  std::shared_ptr<ssl::context> current(Logger& log);

 private:
  struct Stamp {
    std::filesystem::file_time_type keyStore;
    std::filesystem::file_time_type trustStore;
    bool operator==(const Stamp&) const = default;
  };
  Stamp stamp() const;

  TlsSettings settings_;
  bool followFileChanges_;
  std::chrono::milliseconds retryAfterFailure_;
  std::optional<std::chrono::steady_clock::time_point> failedAt_;
  Stamp built_;
  std::shared_ptr<ssl::context> context_;
};

// The subject DN in the RFC 2253 form Java's X500Principal.getName() gives, which ZooKeeper's
// X509AuthenticationProvider uses as the session's "x509" id.
std::string x509SubjectId(X509* certificate);

}  // namespace zk

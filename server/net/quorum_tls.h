#pragma once
// TLS between ensemble members, as ZooKeeper's sslQuorum and portUnification make it: with
// sslQuorum a member dials its peers' quorum and election ports over TLS, and its own ports take
// only TLS; with portUnification its ports take TLS and plaintext alike, told from the first
// byte, which is how an ensemble moves from plaintext to TLS by rolling restarts. Both sides
// present a certificate and verify the other's, its address included (ZooKeeper's quorum
// checks client hostnames too). Every new link is secured here before its owner reads a byte:
// asynchronously on the I/O thread, within ssl.quorum.handshakeDetectionTimeoutMillis.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "net/asio.h"
#include "net/client_stream.h"
#include "net/tls_context.h"
#include "util/log.h"

namespace zk {

struct QuorumTlsPolicy {
  std::shared_ptr<TlsContextSource> contexts;  // null: plaintext only, the settings unused
  bool dialTls = false;                        // sslQuorum
  bool acceptPlain = true;                     // plaintext peers are taken on our ports
  bool hostnameVerification = true;
  std::int32_t handshakeTimeoutMs = 5000;
};

// A member's own TLS counters (ZooKeeper has no metric for the quorum's handshakes).
struct QuorumTlsCounters {
  std::int64_t handshakes = 0;        // completed, either side
  std::int64_t failedHandshakes = 0;  // failed, timed out or with an unverified peer
};

class QuorumTls {
 public:
  // The secured stream; null when securing failed (logged and counted already).
  using Done = std::function<void(std::unique_ptr<ClientStream>)>;

  QuorumTls(Logger& log, QuorumTlsPolicy policy);
  ~QuorumTls();
  QuorumTls(const QuorumTls&) = delete;
  QuorumTls& operator=(const QuorumTls&) = delete;

  // A connection this member opened to `host` (as its configuration names the peer); `what`
  // names it in the log ("election connection to member 2").
  void dialled(tcp::socket socket, const std::string& host, const std::string& what, Done done);
  // A connection accepted on the quorum or election port ("election port").
  void accepted(tcp::socket socket, const std::string& what, Done done);

  bool dialsTls() const { return policy_.dialTls; }
  const QuorumTlsCounters& counters() const { return *counters_; }

 private:
  Logger& log_;
  QuorumTlsPolicy policy_;
  std::shared_ptr<QuorumTlsCounters> counters_ = std::make_shared<QuorumTlsCounters>();
};

}  // namespace zk

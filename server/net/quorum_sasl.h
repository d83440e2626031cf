#pragma once
// ZooKeeper's quorum SASL (quorum.auth.*): on every election and quorum connection, once TLS
// (if any) is up, the dialling member (the "learner" in ZooKeeper's words) authenticates to
// the accepting one in QuorumAuthPackets before the link carries anything else; on an
// election connection that is right after the dialler's initial message. The exchange runs
// here, asynchronously on the I/O thread and within a deadline, before the transport makes its
// link; the link then starts with whatever the peer sent after the exchange.
// DIGEST-MD5 and GSSAPI, both through Cyrus SASL. The accepting side's steps run inline (hashing,
// or checking a ticket with the keytab); a GSSAPI learner's steps may wait for the KDC, so they
// run on one thread of their own and hand their results back to the I/O thread.

#include <boost/asio/thread_pool.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "config/zoo_config.h"
#include "net/asio.h"
#include "net/client_stream.h"
#include "sasl/sasl_client.h"
#include "sasl/sasl_server.h"
#include "util/log.h"

namespace zk {

struct QuorumSaslPolicy {
  bool enabled = false;         // quorum.auth.enableSasl
  bool learnerRequire = false;  // quorum.auth.learnerRequireSasl: we authenticate when dialling
  bool serverRequire = false;   // quorum.auth.serverRequireSasl: peers that do not are refused
  std::shared_ptr<const sasl::Authority> server;  // the QuorumServer section's users
  std::optional<sasl::ClientSettings> learner;    // the QuorumLearner section's login
  std::string servicePrincipal;                   // GSSAPI: quorum.auth.kerberos.servicePrincipal
  std::int32_t timeoutMs = 10000;                 // for the whole exchange
};

// A member's own counters (ZooKeeper has no metric for quorum SASL).
struct QuorumSaslCounters {
  std::int64_t authenticated = 0;  // exchanges that succeeded, either side
  std::int64_t failed = 0;         // failed, refused or timed out, either side
};

class QuorumSasl {
 public:
  // The stream after the exchange with what the peer sent beyond it, or null when the link is
  // refused (logged and counted already).
  using Done = std::function<void(std::unique_ptr<ClientStream>, std::string alreadyRead)>;

  QuorumSasl(Logger& log, QuorumSaslPolicy policy);

  bool enabled() const { return policy_->enabled; }
  // A link we dialled to the member on `peerHost` (its server.N host, which a GSSAPI service
  // principal's _HOST stands for): writes `preamble` (the election connection's initial
  // message), then authenticates when learnerRequireSasl says so. `what` names the link.
  void dialled(std::unique_ptr<ClientStream> stream, std::string preamble,
               const std::string& peerHost, std::string what, Done done);
  // A link accepted on our election (`electionHello`: read the initial message first) or
  // quorum port; alreadyRead then starts with that initial message.
  void accepted(std::unique_ptr<ClientStream> stream, bool electionHello, std::string what,
                Done done);
  const QuorumSaslCounters& counters() const { return *counters_; }

 private:
  Logger& log_;
  std::shared_ptr<const QuorumSaslPolicy> policy_;  // shared with exchanges under way
  std::shared_ptr<QuorumSaslCounters> counters_ = std::make_shared<QuorumSaslCounters>();
  // A GSSAPI learner's steps; null otherwise. Destroyed first: it stops, abandoning queued
  // steps, and waits for the one under way (bounded by krb5.conf's KDC timeouts).
  std::unique_ptr<asio::thread_pool> kerberos_;
};

// The policy zoo.cfg's quorum.auth.* keys give, with the sections of the JAAS file
// (java.security.auth.login.config). Throws std::runtime_error, naming the file or section,
// when it cannot be used: as ZooKeeper, a member whose login fails does not start.
QuorumSaslPolicy quorumSaslPolicy(const ServerConfig& config, Logger& log);

}  // namespace zk

#pragma once
// The learner's side of ZooKeeper's quorum SASL, through Cyrus SASL (libsasl2) as the server
// side is: DIGEST-MD5 with the username and password of a JAAS QuorumLearner section. The
// library's work is local CPU (hashing), so it runs inline on the caller's thread.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "sasl/jaas.h"
#include "sasl/sasl_server.h"

namespace zk::sasl {

struct ClientSettings {
  std::string mechanism = "DIGEST-MD5";
  std::string service;     // the protocol, as the server's Settings::service
  std::string serverName;  // as the server's Settings::serverName
  std::string username;
  std::string password;
};

// The settings a JAAS learner section gives (DigestLoginModule username/password). Throws
// Error when the section is missing, names a Kerberos login (not supported on this side) or
// has no username.
ClientSettings clientSettingsFrom(const jaas::Configuration& config, std::string_view section);

class ClientExchange {
 public:
  struct Step {
    std::string token;      // for the server; may be empty
    bool complete = false;  // the mechanism is done (the server may still refuse)
  };
  // Initialises the library once per process; throws Error if it cannot.
  explicit ClientExchange(ClientSettings settings);
  ~ClientExchange();
  ClientExchange(const ClientExchange&) = delete;
  ClientExchange& operator=(const ClientExchange&) = delete;
  // The first token (empty when the mechanism has no initial response).
  Step start();
  // One server token. Throws Error when the library refuses it.
  Step evaluate(std::span<const std::uint8_t> token);

 private:
  struct Conn;
  ClientSettings settings_;
  std::unique_ptr<Conn> conn_;
};

}  // namespace zk::sasl

#pragma once
// The learner's side of ZooKeeper's quorum SASL, through Cyrus SASL (libsasl2) as the server
// side is: DIGEST-MD5 with the username and password of a JAAS QuorumLearner section, or GSSAPI
// with its Krb5LoginModule's principal and keyTab. DIGEST-MD5 is local CPU (hashing); a GSSAPI
// step may ask the KDC for a ticket, so a caller on an event loop runs those steps elsewhere.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "sasl/jaas.h"
#include "sasl/sasl_server.h"

namespace zk::sasl {

class GssCredential;

struct ClientSettings {
  std::string mechanism = "DIGEST-MD5";
  std::string service;     // the protocol; GSSAPI: the service principal's first part
  std::string serverName;  // as the server's Settings::serverName; GSSAPI: the principal's host
  std::string username;
  std::string password;
  std::string principal;  // GSSAPI: the JAAS principal
  std::string keytab;     // GSSAPI: the JAAS keyTab (empty: useKeyTab is off)
  // GSSAPI: set when the JAAS section says useTicketCache=true, to its ticketCache (empty: the
  // default cache); tried before the keytab, as Krb5LoginModule does.
  std::optional<std::string> ticketCache;
  std::string authorizationId;  // empty: the username (GSSAPI: the login's full principal)
  std::shared_ptr<const GssCredential> credential;  // GSSAPI: the login, see logIn
};

// The settings a JAAS learner section gives: DigestLoginModule username/password, or
// Krb5LoginModule principal/keyTab and useTicketCache/ticketCache (GSSAPI). Throws Error when
// the section is missing, or has neither a username nor a Kerberos login that can work.
ClientSettings clientSettingsFrom(const jaas::Configuration& config, std::string_view section);

// GSSAPI: the login every exchange then shares (as ZooKeeper's Login at start): the ticket
// cache's when it has the principal's ticket-granting ticket, else the keytab's. It also sets
// the authorization id to the full principal as ZooKeeper's learner sends it. Throws Error when
// neither can log the principal in. For either mechanism it initialises the
// library, which must be done before exchanges run on several threads.
void logIn(ClientSettings& settings);

// The service principal a GSSAPI learner asks a ticket for, as ZooKeeper's SecurityUtils
// resolves quorum.auth.kerberos.servicePrincipal: "name/_HOST" (exactly) becomes
// "name/<peer host, lower-cased>"; anything else is taken as it is.
std::string quorumServicePrincipal(const std::string& configured, const std::string& peerHost);

class ClientExchange {
 public:
  struct Step {
    std::string token;      // for the server; may be empty
    bool complete = false;  // the mechanism is done (the server may still refuse)
  };
  // Initialises the library once per process; throws Error if it cannot. A GSSAPI login from a
  // ticket cache reads the cache again here (a local file), so a renewed one is picked up.
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

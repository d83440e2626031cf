#pragma once
// ZooKeeper's client-port SASL, through Cyrus SASL (libsasl2): one Authority per server,
// made from the JAAS "Server" section, and one Exchange per connection that feeds the
// client's tokens to the library. As ZooKeeper, the JAAS section decides the mechanism:
// a Kerberos principal means GSSAPI, otherwise DIGEST-MD5 with the section's user_<name>
// passwords. The library's work is local CPU (DIGEST-MD5 hashing; GSSAPI decrypting a ticket
// with the keytab, no KDC round trip), so it runs inline on the caller's thread.

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include "sasl/jaas.h"

namespace zk::sasl {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Settings {
  std::string mechanism;  // "DIGEST-MD5" or "GSSAPI"
  std::string service = "zookeeper";
  std::string serverName = "zk-sasl-md5";  // GSSAPI: the host of the service principal
  std::string realm;                       // GSSAPI: the service principal's realm
  std::map<std::string, std::string, std::less<>> users;  // DIGEST-MD5: name -> password
  std::string keytab;                                     // GSSAPI
  bool removeHostFromPrincipal = false;                   // kerberos.removeHostFromPrincipal
  bool removeRealmFromPrincipal = false;                  // kerberos.removeRealmFromPrincipal
  // Quorum only, as ZooKeeper's SaslQuorumServerCallbackHandler authorizes a learner: the
  // authorization id must be the authentication id, and a Kerberos name/host@REALM must name
  // one of these hosts (the ensemble's, from its server.N lines).
  bool authorizeAsQuorumMember = false;
  std::set<std::string, std::less<>> memberHosts;
};

// The settings a JAAS section gives, as ZooKeeper's server reads it. Throws Error when the
// section is missing or its principal is not service/host@REALM.
Settings settingsFrom(const jaas::Configuration& config, std::string_view section);

// The id a session gets for an authenticated principal, as ZooKeeper's
// SaslServerCallbackHandler derives it: "name[/host][@realm]" minus what the flags remove.
std::string authorizedId(std::string_view principal, bool removeHost, bool removeRealm);

// The token of a GetSASLRequest (op 102's body); a null buffer is an empty token. Throws
// jute::DecodeError when the body is not one.
std::string tokenOf(std::span<const std::uint8_t> getSaslRequest);

class Exchange;
class GssCredential;

class Authority {
 public:
  // Initialises the library once per process; throws Error if it cannot, or if a GSSAPI
  // section's keyTab holds no key for its principal.
  explicit Authority(Settings settings);
  const Settings& settings() const { return settings_; }
  std::unique_ptr<Exchange> begin() const;

 private:
  Settings settings_;
  std::shared_ptr<const GssCredential> acceptor_;  // GSSAPI with a keyTab
};

class Exchange {
 public:
  struct Step {
    std::string token;         // for the client; may be empty
    bool complete = false;     // authenticated
    std::string authorizedId;  // when complete
  };
  // `acceptor`: the GSSAPI key to check tickets with (null: GSS-API's default keytab).
  Exchange(const Settings& settings, const GssCredential* acceptor);
  ~Exchange();
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;
  // One client token. Throws Error when authentication fails; the exchange is then over.
  Step evaluate(std::span<const std::uint8_t> token);

 private:
  std::string qualified(std::string name) const;
  std::string authenticatedPrincipal() const;
  void authorizeAsQuorumMember(const std::string& principal) const;

  struct Conn;
  const Settings& settings_;
  std::unique_ptr<Conn> conn_;
  bool started_ = false;
};

}  // namespace zk::sasl

#pragma once
// The operator's way into an ensemble that refuses sessions without SASL (spec.auth.enforce).
//
// The operator reconfigures through ZooKeeper's C client, and Debian's libzookeeper-mt is built
// without Cyrus SASL (no zookeeper_init_sasl). As for TLS (tls_relay.h), each member gets a relay
// on 127.0.0.1: it passes the client's ConnectRequest and the member's ConnectResponse through,
// then authenticates the new session itself with ZooKeeper's SASL packets (op 102, DIGEST-MD5 as
// the operator's user, through the server's own Cyrus client exchange, sasl_client.h), and only
// then relays everything else both ways. The C client never sees the SASL packets; its requests
// wait in the socket until the session is authenticated. A refused exchange closes the
// connection, so the C client moves on to the next member.

#include <memory>
#include <string>

namespace zk::op::relay {

struct SaslLogin {
  std::string user;
  std::string password;
};

class SaslRelay {
 public:
  // Listens at once and relays to host:port (the member, or a TlsRelay in front of it) on its own
  // thread until destroyed.
  SaslRelay(std::string host, int port, SaslLogin login);
  ~SaslRelay();
  SaslRelay(const SaslRelay&) = delete;
  SaslRelay& operator=(const SaslRelay&) = delete;

  int localPort() const;  // on 127.0.0.1

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace zk::op::relay

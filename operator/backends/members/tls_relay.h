#pragma once
// The operator's way to a member that listens only for TLS clients (spec.tls.client: on).
//
// The operator reconfigures through ZooKeeper's C client, and Debian's libzookeeper-mt is built
// without TLS; its srvr probes are plain sockets too. Rather than two TLS client stacks, each
// member gets a relay: a listener on 127.0.0.1 (an ephemeral port) whose every connection is
// carried over TLS to the member's secure port, the member's certificate checked against the
// cluster's CA and its name, the operator's own client certificate presented (clientAuth need).
// Only the operator's process can use it: it listens on loopback, and what it relays is
// authenticated on the member's side by the operator's certificate and super user anyway.

#include <memory>
#include <string>

namespace zk::op::relay {

struct TlsClientFiles {
  std::string caPem;
  std::string certPem;  // the operator's client certificate
  std::string keyPem;
};

class TlsRelay {
 public:
  // Listens at once and relays on its own thread until destroyed. The member's certificate must
  // name `verifyName` (default: `host`; in Kubernetes the pod's IP is not in its certificate,
  // its DNS name is). Throws std::runtime_error when the PEM text cannot be loaded.
  TlsRelay(std::string host, int port, const TlsClientFiles& files, std::string verifyName = {});
  ~TlsRelay();
  TlsRelay(const TlsRelay&) = delete;
  TlsRelay& operator=(const TlsRelay&) = delete;

  int localPort() const;  // on 127.0.0.1
  const std::string& host() const;
  int port() const;
  const std::string& caPem() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace zk::op::relay

#pragma once
// How the operator reaches a member's client port, from what THAT member runs rather than from
// what the spec now asks: mid-roll, members started before a change of tls.client or auth run
// the old settings until their turn, and the operator must probe and reconfigure through every
// member at every step (tls.client on -> both -> off, sasl and enforce turned on or off
// together). Each member records what it was started with (Kubernetes: the pod template's
// kClientAccessAnnotation; local mode: the process record), and these pure functions turn the
// record into a connection. A member with no record (started by an operator older than the
// record) is taken to run what the spec asks, as before.

#include <optional>
#include <string>
#include <string_view>

#include "model/zk_cluster.h"

namespace zk::op {

// What a member's client port runs, as far as the operator's own connection cares.
struct ClientAccess {
  ClientTls tls = ClientTls::kOff;  // on: secureClientPort only; both: clientPort speaks both
  bool sasl = false;                // a SASL provider (spec.auth.sasl or kerberos)
  bool enforce = false;             // sessions must log in with SASL first
  bool operator==(const ClientAccess&) const = default;
};

// What a member started now runs: the spec's settings.
ClientAccess clientAccessOf(const ZkCluster& c);

// How the operator connects to a member. Four-letter words (srvr, conf) never need SASL, so
// probes use `tls` only; sessions (reconfig, /zookeeper/config) need both.
struct OperatorConnection {
  bool tls = false;   // through the TLS relay to secureClientPort (the member runs `on`)
  bool sasl = false;  // a SASL login first, through the SASL relay (the member enforces)
  bool operator==(const OperatorConnection&) const = default;
};
OperatorConnection operatorConnection(const ClientAccess& a);
// The port that connection dials: secureClientPort with TLS, else the plaintext clientPort.
int operatorPort(const ClientAccess& a, const Ports& p);

// The record's text, "tls=on,sasl=true,enforce=false", and back; nullopt for text that is not
// one (an annotation edited by hand is treated as no record).
inline constexpr const char* kClientAccessAnnotation = "zookube.dev/client-access";
std::string formatClientAccess(const ClientAccess& a);
std::optional<ClientAccess> parseClientAccess(std::string_view text);

// The member's record when it has a valid one, else what the spec asks.
ClientAccess recordedOrSpec(std::string_view record, const ZkCluster& c);

}  // namespace zk::op

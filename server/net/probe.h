#pragma once
// Health probes answered by the binary itself, for Kubernetes and Docker: no shell and no `nc`,
// whose connect-then-read races make probes flaky.
//   live:  the server answers `ruok` with `imok` (its event loop runs)
//   ready: the server serves clients (`srvr` shows a Mode: standalone, or in sync with a leader)
//
// The target is HOST:PORT (plaintext) or the member's own zoo.cfg. Given the zoo.cfg, the probe
// asks the port clients use: clientPort in plaintext when there is one (with port unification it
// takes plaintext too), else secureClientPort over TLS, presenting the member's own key store as
// its client certificate (ssl.clientAuth=need admits it) and checking the member's certificate
// against the member's trust store. A TLS-only member (spec.tls.client: on) is probed through
// the same handshake its clients make, so a member whose stores do not load is not ready.

#include <chrono>
#include <string>
#include <string_view>

namespace zk {

struct ProbeResult {
  bool ok = false;
  std::string detail;  // what was seen, for the probe's one line of output
};

enum class ProbeKind { kLive, kReady };

// Parses "live"/"ready"; false for anything else.
bool parseProbeKind(std::string_view name, ProbeKind& kind);

// Connects to `target` (HOST:PORT, or the path of an existing zoo.cfg), sends the four-letter
// word and judges the answer; never waits longer than `timeout` in total.
ProbeResult runProbe(ProbeKind kind, const std::string& target, std::chrono::milliseconds timeout);

}  // namespace zk

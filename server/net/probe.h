#pragma once
// Health probes answered by the binary itself, for Kubernetes and Docker: no shell and no `nc`,
// whose connect-then-read races make probes flaky.
//   live:  the server answers `ruok` with `imok` (its event loop runs)
//   ready: the server serves clients (`srvr` shows a Mode: standalone, or in sync with a leader)

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

// Connects to host:port, sends the four-letter word and judges the answer; never waits longer
// than `timeout` in total.
ProbeResult runProbe(ProbeKind kind, const std::string& hostPort,
                     std::chrono::milliseconds timeout);

}  // namespace zk

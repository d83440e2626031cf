#pragma once
// Turning quorum TLS on or off on a running ensemble, as ZooKeeper documents it: three rolling
// restarts, each to the next QuorumTlsStage (zk_cluster.h). The planner moves the status's stage
// one step once the roll to the current one has finished and every member is back in sync; the
// next pass's target hash (render.h) then rolls the members onto it, leader last.

#include <string>

#include "model/zk_cluster.h"

namespace zk::op {

// The stage spec.tls.quorum asks for.
QuorumTlsStage quorumTlsGoal(const TlsSpec& tls);
// The stage after `from` on the way to `goal` (`from` itself once there).
QuorumTlsStage nextQuorumTlsStage(QuorumTlsStage from, QuorumTlsStage goal);
// What the members do at `stage`: "every member speaks TLS only (sslQuorum)".
std::string describeQuorumTlsStage(QuorumTlsStage stage);
// What status.quorumTLS.migration says while members are rolled to `stage` on the way to `goal`:
// "enabling, step 2 of 3: every member dials TLS and still accepts plaintext (sslQuorum)".
std::string quorumTlsStep(QuorumTlsStage stage, QuorumTlsStage goal);

}  // namespace zk::op

#pragma once
// Turning SASL between members on or off on a running ensemble, as ZooKeeper documents it:
// three rolling restarts, each to the next QuorumSaslStage (zk_cluster.h). Once the roll to the
// current stage has finished and every member is back in sync, the status moves one step; the
// next pass's target hash (render.h) then rolls the members onto it, leader last.

#include <optional>
#include <string>

#include "model/zk_cluster.h"

namespace zk::op {

// The stage spec.auth.quorum asks for.
QuorumSaslStage quorumSaslGoal(const AuthSpec& auth);
// The stage after `from` on the way to `goal` (`from` itself once there).
QuorumSaslStage nextQuorumSaslStage(QuorumSaslStage from, QuorumSaslStage goal);
// What the members do at `stage`: "every member authenticates when it dials
// (quorum.auth.learnerRequireSasl)".
std::string describeQuorumSaslStage(QuorumSaslStage stage);
// "enabling, step 2 of 3: ..." while members are rolled to `stage` on the way to `goal`.
std::string quorumSaslStep(QuorumSaslStage stage, QuorumSaslStage goal);

// What the planner knows on this pass.
struct QuorumSaslPass {
  QuorumSaslStatus previous;  // status.quorumSASL as stored
  QuorumSaslStage rendered;   // the stage the members are rendered at now
  QuorumSaslStage goal;
  std::string mechanism;  // quorumSaslMechanism(spec.auth)
  bool rolling = false;   // a roll (to `rendered`) is under way
  // Why the next step cannot start although no roll runs: "" when every member is in sync.
  std::string hold;
};
// What the planner does about it.
struct QuorumSaslDecision {
  QuorumSaslStatus status;  // status.quorumSASL to write
  std::string progressing;  // the Progressing message; "" when the migration does not move
  std::string wait;         // why the next pass should come soon; "" for none
  std::string eventReason;  // a Normal Event; "" for none
  std::string eventMessage;
};
QuorumSaslDecision stepQuorumSasl(const QuorumSaslPass& pass);

}  // namespace zk::op

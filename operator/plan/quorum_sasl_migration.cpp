#include "plan/quorum_sasl_migration.h"

#include "plan/migration_steps.h"

namespace zk::op {
std::string describeQuorumSaslStage(QuorumSaslStage stage) {
  switch (stage) {
    case QuorumSaslStage::kOff:
      return "members do not authenticate each other";
    case QuorumSaslStage::kEnabled:
      return "every member takes part in quorum SASL, none requires it "
             "(quorum.auth.enableSasl)";
    case QuorumSaslStage::kLearnerRequired:
      return "every member authenticates when it dials a peer (quorum.auth.learnerRequireSasl)";
    case QuorumSaslStage::kServerRequired:
      return "every member refuses peers that do not authenticate "
             "(quorum.auth.serverRequireSasl)";
  }
  return {};
}

QuorumSaslStage quorumSaslGoal(const AuthSpec& auth) {
  return auth.quorum.enabled ? QuorumSaslStage::kServerRequired : QuorumSaslStage::kOff;
}

QuorumSaslStage nextQuorumSaslStage(QuorumSaslStage from, QuorumSaslStage goal) {
  return stageTowards(from, goal);
}

std::string quorumSaslStep(QuorumSaslStage stage, QuorumSaslStage goal) {
  return migrationStepText(static_cast<int>(stage), goal == QuorumSaslStage::kServerRequired,
                           describeQuorumSaslStage(stage));
}

QuorumSaslDecision stepQuorumSasl(const QuorumSaslPass& pass) {
  QuorumSaslDecision d;
  QuorumSaslStage stage = pass.rendered, goal = pass.goal;
  const std::string& was = pass.previous.migration;
  QuorumSaslStage next = nextQuorumSaslStage(stage, goal);
  auto mechanismAt = [&](QuorumSaslStage s) {
    return s == QuorumSaslStage::kOff ? std::string() : pass.mechanism;
  };
  d.status = {stage, mechanismAt(stage), ""};
  if (pass.rolling) {  // members are still being rolled to `stage`
    d.status.migration =
        !was.empty() || stage == goal ? was : "after the roll, " + quorumSaslStep(next, goal);
    return d;
  }
  if (stage == goal) {
    if (!was.empty()) {
      d.eventReason = goal == QuorumSaslStage::kOff ? "QuorumSASLDisabled" : "QuorumSASLEnabled";
      d.eventMessage = "quorum SASL migration done: " + describeQuorumSaslStage(stage);
    }
    return d;
  }
  if (!pass.hold.empty()) {
    d.status.migration = pass.hold + ", then " + quorumSaslStep(next, goal);
    d.progressing = d.status.migration;
    d.wait = "quorum SASL: " + d.status.migration;
    return d;
  }
  d.status = {next, mechanismAt(next), quorumSaslStep(next, goal)};
  d.progressing = d.status.migration;
  d.eventReason = "QuorumSASLStep";
  d.eventMessage = "quorum SASL " + d.status.migration;
  d.wait = "quorum SASL: the next pass rolls the members to stage " +
           std::string(quorumSaslStageName(next));
  return d;
}

}  // namespace zk::op

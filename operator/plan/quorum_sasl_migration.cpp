#include "plan/quorum_sasl_migration.h"

namespace zk::op {
namespace {

int rank(QuorumSaslStage s) {
  return static_cast<int>(s);
}

}  // namespace

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
  if (from == goal) return from;
  return static_cast<QuorumSaslStage>(rank(from) + (rank(goal) > rank(from) ? 1 : -1));
}

std::string quorumSaslStep(QuorumSaslStage stage, QuorumSaslStage goal) {
  bool enabling = goal == QuorumSaslStage::kServerRequired;
  // Enabling reaches stage k at step k; disabling reaches it at step 3 - k.
  int step = enabling ? rank(stage) : rank(QuorumSaslStage::kServerRequired) - rank(stage);
  return std::string(enabling ? "enabling" : "disabling") + ", step " + std::to_string(step) +
         " of 3: " + describeQuorumSaslStage(stage);
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

#include "plan/quorum_tls_migration.h"

namespace zk::op {
namespace {

int rank(QuorumTlsStage s) {
  return static_cast<int>(s);
}

}  // namespace

std::string describeQuorumTlsStage(QuorumTlsStage stage) {
  switch (stage) {
    case QuorumTlsStage::kPlaintext:
      return "every member speaks plaintext only";
    case QuorumTlsStage::kPortUnification:
      return "every member accepts TLS and plaintext, dials plaintext (portUnification)";
    case QuorumTlsStage::kTlsUnified:
      return "every member dials TLS and still accepts plaintext (sslQuorum, portUnification)";
    case QuorumTlsStage::kTls:
      return "every member speaks TLS only (sslQuorum)";
  }
  return {};
}

QuorumTlsStage quorumTlsGoal(const TlsSpec& tls) {
  return tls.quorum ? QuorumTlsStage::kTls : QuorumTlsStage::kPlaintext;
}

QuorumTlsStage nextQuorumTlsStage(QuorumTlsStage from, QuorumTlsStage goal) {
  if (from == goal) return from;
  return static_cast<QuorumTlsStage>(rank(from) + (rank(goal) > rank(from) ? 1 : -1));
}

std::string quorumTlsStep(QuorumTlsStage stage, QuorumTlsStage goal) {
  bool enabling = goal == QuorumTlsStage::kTls;
  // Enabling reaches stage k at step k; disabling reaches it at step 3 - k.
  int step = enabling ? rank(stage) : rank(QuorumTlsStage::kTls) - rank(stage);
  return std::string(enabling ? "enabling" : "disabling") + ", step " + std::to_string(step) +
         " of 3: " + describeQuorumTlsStage(stage);
}

}  // namespace zk::op

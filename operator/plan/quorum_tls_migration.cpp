#include "plan/quorum_tls_migration.h"

#include "plan/migration_steps.h"

namespace zk::op {
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
  return stageTowards(from, goal);
}

std::string quorumTlsStep(QuorumTlsStage stage, QuorumTlsStage goal) {
  return migrationStepText(static_cast<int>(stage), goal == QuorumTlsStage::kTls,
                           describeQuorumTlsStage(stage));
}

}  // namespace zk::op

// A committed txn that does not decode is a fail-stop, never skipped.

#include "net/committed_txn.h"

#include <gtest/gtest.h>

#include "util/fail_stop.h"

namespace zk {
namespace {

TEST(CommittedTxn, ADecodableOneIsReturned) {
  Logger log;
  Txn txn{TxnHeader{7, 1, 0x100000005, 1000, -11}, CloseSessionTxn{{"/e"}}};
  EXPECT_EQ(decodeCommittedTxn(log, 0x100000005, encodeTxn(txn)), txn);
}

TEST(CommittedTxnDeathTest, AnUndecodableOneStopsThisMember) {
  Logger log;
  Txn txn{TxnHeader{7, 1, 0x100000005, 1000, -11}, CloseSessionTxn{{"/e"}}};
  std::string bytes = encodeTxn(txn);
  bytes.resize(bytes.size() - 3);  // cut inside the last path
  EXPECT_EXIT(decodeCommittedTxn(log, 0x100000005, bytes),
              ::testing::ExitedWithCode(kFailStopExitCode),
              "\\[zab\\] fail-stop: committed txn 0x100000005 is undecodable");
}

}  // namespace
}  // namespace zk

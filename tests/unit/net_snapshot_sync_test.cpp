// A leader sends a SNAP only at the zxid its tree is at: asked for another, it fail-stops. Zab
// asks at the zxid it last delivered and the driver applies deliveries in order, so no input
// reaches this from outside; the check keeps it so.

#include "net/snapshot_sync.h"

#include <gtest/gtest.h>

#include "util/fail_stop.h"

namespace zk {
namespace {

constexpr std::int64_t kLearner = 2;

struct LeaderSide {
  LeaderSide() { tree.setLastProcessedZxid(0x100000007); }
  asio::io_context io;
  Logger log{LogLevel::kError};
  // No peers and nothing bound: a SNAP to a learner without a link is dropped, not sent.
  QuorumTransport transport{io, log, 1, {}, {}, {}, {}, {}};
  DataTree tree;
  SnapshotSends sends{io, log, transport, tree, [](std::int64_t) {}};
};

TEST(SnapshotSends, ASnapAtTheTreesZxidToALearnerWithNoLinkIsDropped) {
  LeaderSide leader;
  leader.sends.start(kLearner, 0x100000007, {});
  EXPECT_EQ(leader.sends.active(), 0u);
}

TEST(SnapshotSendsDeathTest, ASnapAtAnotherZxidThanTheTreesStopsThisMember) {
  LeaderSide leader;
  EXPECT_EXIT(leader.sends.start(kLearner, 0x100000005, {}),
              ::testing::ExitedWithCode(kFailStopExitCode),
              "\\[zab\\] fail-stop: asked to send a SNAP at 0x100000005 to member 2 but the tree "
              "is at 0x100000007");
}

}  // namespace
}  // namespace zk

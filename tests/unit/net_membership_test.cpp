// A configuration this member must adopt but cannot read is a fail-stop (docs/guarantees.md);
// in an election notification it is one peer's claim, and only ignored.

#include "net/membership.h"

#include <gtest/gtest.h>

#include "util/fail_stop.h"

namespace zk {
namespace {

constexpr const char* kUnreadable = "server.1=127.0.0.1:2888:3888:participant;2181\nserver.x=?\n";

TEST(MembershipDeathTest, AnUnreadableCommittedConfigurationStopsThisMember) {
  ServerConfig config;
  DataTree tree;
  Logger log;
  Membership membership(config, tree, log);
  EXPECT_EXIT(membership.committedNewer(kUnreadable), ::testing::ExitedWithCode(kFailStopExitCode),
              "\\[zab\\] fail-stop: committed configuration is unreadable");
}

TEST(MembershipDeathTest, AnUnreadableConfigurationFromOurLeaderStopsThisMember) {
  ServerConfig config;
  DataTree tree;
  Logger log;
  Membership membership(config, tree, log);
  EXPECT_EXIT(membership.fromLeader(kUnreadable, false),
              ::testing::ExitedWithCode(kFailStopExitCode),
              "\\[zab\\] fail-stop: the leader's configuration is unreadable");
}

TEST(Membership, AnUnreadableConfigurationInAnElectionIsOnlyIgnored) {
  ServerConfig config;
  DataTree tree;
  Logger log(LogLevel::kError);
  Membership membership(config, tree, log);
  EXPECT_EQ(membership.fromLeader(kUnreadable, true), std::nullopt);
}

}  // namespace
}  // namespace zk

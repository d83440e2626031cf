// Local mode's view of member processes: how long one has been running.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <optional>

#include "backends/local/process.h"

namespace zk::op::local {
namespace {

TEST(LocalProcess, AChildStartedNowHasBeenUpUnderASecondAndAGoneOneNotAtAll) {
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::pause();  // until the test kills it
    ::_exit(0);
  }
  std::optional<std::int64_t> up = processUpSeconds(child);
  ASSERT_TRUE(up.has_value());
  EXPECT_LE(*up, 1);
  ::kill(child, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_FALSE(processUpSeconds(child).has_value()) << "reaped: no such process";
}

TEST(LocalProcess, ThisProcessHasBeenUpNoLongerThanTheMachine) {
  std::optional<std::int64_t> up = processUpSeconds(::getpid());
  ASSERT_TRUE(up.has_value());
  EXPECT_GE(*up, 0);
  EXPECT_FALSE(processUpSeconds(0).has_value());
}

}  // namespace
}  // namespace zk::op::local

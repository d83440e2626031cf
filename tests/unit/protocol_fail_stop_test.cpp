// The fail-stop facility: one line naming what failed, then the process ends with status 3.

#include <gtest/gtest.h>

#include "util/fail_stop.h"

namespace zk {
namespace {

TEST(FailStopDeathTest, LogsOneLineAndExitsWithItsOwnStatus) {
  Logger log;
  EXPECT_EXIT(failStop(log, "txnlog", "cannot fsync /d/version-2/log.1: Input/output error"),
              ::testing::ExitedWithCode(kFailStopExitCode),
              "ERROR \\[txnlog\\] fail-stop: cannot fsync /d/version-2/log.1: Input/output "
              "error; exiting with status 3");
}

}  // namespace
}  // namespace zk

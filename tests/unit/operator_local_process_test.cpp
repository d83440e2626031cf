// Local mode's view of member processes: the /proc scan that finds them, and how long one has
// been running.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <thread>

#include "backends/local/process.h"

namespace zk::op::local {
namespace {

TEST(LocalProcess, UpSecondsCountsWholeSecondsSinceTheStartAndNeverBelowZero) {
  // Started 2.5 s after boot (250 ticks at 100 Hz), the machine up 12.9 s: up 10.4 s.
  EXPECT_EQ(upSeconds(250, {12.9, 100}), 10);
  EXPECT_EQ(upSeconds(250, {2.5, 100}), 0);
  // A start past the uptime (the two are rounded differently) counts as just started.
  EXPECT_EQ(upSeconds(2000, {12.0, 100}), 0);
  EXPECT_EQ(upSeconds(250, {12.9, 0}), 0);
}

TEST(LocalProcess, TheBootClockIsReadable) {
  std::optional<BootClock> now = readBootClock();
  ASSERT_TRUE(now.has_value());
  EXPECT_GT(now->secondsSinceBoot, 0);
  EXPECT_GT(now->ticksPerSecond, 0);
}

// Polls the scan for `configPath` until it is found or `limit` has passed.
std::optional<ServerProcess> scanFor(const std::string& binaryName, const std::string& configPath,
                                     std::chrono::seconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  for (;;) {
    std::map<std::string, ServerProcess> found = findServerProcesses(binaryName);
    if (auto it = found.find(configPath); it != found.end()) return it->second;
    if (std::chrono::steady_clock::now() >= end) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

TEST(LocalProcess, TheScanFindsAChildStartedNowUpUnderASecondAndNotOnceReaped) {
  // sleep stands in for the server: its one argument takes the config path's place. The fraction,
  // unique to this test run, tells it from any other sleep; if the test fails half way, it ends
  // by itself.
  std::string arg = "30." + std::to_string(::getpid());
  pid_t child = spawnServer("/bin/sleep", arg, "/dev/null");
  // Until the child has exec'd, /proc shows it as this test binary.
  std::optional<ServerProcess> found = scanFor("sleep", arg, std::chrono::seconds(5));
  ASSERT_TRUE(found.has_value()) << "pid " << child << " (sleep " << arg << ") not found in /proc";
  EXPECT_EQ(found->pid, child);
  std::optional<BootClock> now = readBootClock();
  ASSERT_TRUE(now.has_value());
  EXPECT_LE(upSeconds(found->startTicks, *now), 1);
  StopOutcome stopped = stopProcess(child, std::chrono::seconds(5));
  EXPECT_TRUE(stopped.status.has_value()) << "our child is waited for, so reaped";
  EXPECT_FALSE(findServerProcesses("sleep").contains(arg)) << "reaped: no such process";
}

}  // namespace
}  // namespace zk::op::local

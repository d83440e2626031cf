// zkbench: a load generator for ZooKeeper-compatible servers on libzookeeper-mt's async API.
// Runs one workload, bounded in time, and prints one JSON line with what it measured.
#include <zookeeper/zookeeper.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <string>
#include <thread>

#include "options.h"
#include "workloads.h"

namespace zk::bench {
namespace {

std::string jsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) out += c;
  }
  return out + "\"";
}

void printResult(const Options& o, const Result& r) {
  double rate = r.seconds > 0 ? static_cast<double>(r.ops) / r.seconds : 0;
  std::string line =
      "{\"workload\":" + jsonString(o.workload) + ",\"server\":" + jsonString(o.server) +
      ",\"sessions\":" + std::to_string(o.sessions) +
      ",\"outstanding\":" + std::to_string(o.outstanding) +
      ",\"value_size\":" + std::to_string(o.value_size) + ",\"ops\":" + std::to_string(r.ops) +
      ",\"seconds\":" + std::to_string(r.seconds) + ",\"ops_per_sec\":" + std::to_string(rate) +
      ",\"mean_us\":" + std::to_string(r.latency.mean()) +
      ",\"p50_us\":" + std::to_string(r.latency.percentile(0.50)) +
      ",\"p90_us\":" + std::to_string(r.latency.percentile(0.90)) +
      ",\"p99_us\":" + std::to_string(r.latency.percentile(0.99)) +
      ",\"p999_us\":" + std::to_string(r.latency.percentile(0.999)) +
      ",\"errors\":" + std::to_string(r.errors);
  for (const auto& [key, value] : r.extra) {
    line += "," + jsonString(key) + ":" + std::to_string(value);
  }
  std::printf("%s}\n", line.c_str());
  std::fflush(stdout);
}

ZooLogLevel logLevel(std::string_view name) {
  if (name == "debug") return ZOO_LOG_LEVEL_DEBUG;
  if (name == "info") return ZOO_LOG_LEVEL_INFO;
  if (name == "warn") return ZOO_LOG_LEVEL_WARN;
  return ZOO_LOG_LEVEL_ERROR;
}

Result run(const Options& o) {
  if (o.workload == "watch") return runWatchFanout(o);
  if (o.workload == "session-churn") return runChurn(o, false);
  if (o.workload == "ephemeral-churn") return runChurn(o, true);
  return runClosedLoop(o);
}

// Ends the process if the run overshoots its budget (a stuck server must not hang callers).
class Watchdog {
 public:
  Watchdog(const Options& o, std::chrono::duration<double> budget)
      : thread_([this, o, budget](std::stop_token stop) {
          std::unique_lock lock(mu_);
          if (cv_.wait_for(lock, stop, budget, [] { return false; })) return;
          if (stop.stop_requested()) return;
          std::printf("{\"workload\":%s,\"server\":%s,\"error\":\"timed out after %.0f s\"}\n",
                      jsonString(o.workload).c_str(), jsonString(o.server).c_str(), budget.count());
          std::fflush(stdout);
          std::_Exit(3);
        }) {}

 private:
  std::mutex mu_;
  std::condition_variable_any cv_;
  std::jthread thread_;  // last: stopped and joined before the members it uses go away
};

}  // namespace
}  // namespace zk::bench

int main(int argc, char** argv) {
  using namespace zk::bench;
  Options o;
  try {
    bool help = false;
    o = parseOptions(argc, argv, help);
    if (help) {
      std::fputs(usage().data(), stdout);
      return 0;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "zkbench: %s\n%s", e.what(), usage().data());
    return 2;
  }
  zoo_set_debug_level(logLevel(o.client_log));
  // Setup, drain and close each get a bounded allowance on top of the measured time.
  auto budget = std::chrono::duration<double>(o.warmup_s + o.duration_s + 90);
  Watchdog watchdog(o, budget);
  try {
    printResult(o, run(o));
  } catch (const std::exception& e) {
    std::printf("{\"workload\":%s,\"server\":%s,\"error\":%s}\n", jsonString(o.workload).c_str(),
                jsonString(o.server).c_str(), jsonString(e.what()).c_str());
    return 1;
  }
  return 0;
}

// The workloads zkbench can run. Each connects its own sessions, runs for the configured
// warm-up plus duration (populate: until done), and returns what it measured in the window.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "client.h"
#include "histogram.h"
#include "options.h"

namespace zk::bench {

struct Result {
  uint64_t ops = 0;
  uint64_t errors = 0;
  double seconds = 0;
  LatencyHistogram latency;                           // microseconds
  std::vector<std::pair<std::string, double>> extra;  // workload-specific numbers
};

// get, set, mixed (90% get / 10% set), create (create then delete), populate (create --keys
// znodes once, as fast as possible).
Result runClosedLoop(const Options& o);
// One writer sets a znode with one request in flight; sessions-1 watchers re-arm a data watch
// after each notification. ops = notifications, latency = set sent -> notification received.
Result runWatchFanout(const Options& o);
// Each of --sessions threads loops connect -> (ephemeral: create 10 ephemerals) -> close.
// ops = completed cycles; latency = connect time (session-churn) or whole cycle (ephemeral).
Result runChurn(const Options& o, bool ephemerals);

// ---- shared pieces ----

// Flags the workload's callbacks read: record only inside the window, stop issuing after it.
struct Window {
  std::atomic<bool> recording{false};
  std::atomic<bool> stopping{false};
};

// Warm-up, then the measured window; returns its length in seconds. Leaves `stopping` set.
double runWindow(const Options& o, Window& w);

// Connects n sessions in parallel; throws std::runtime_error if any is not connected in time.
std::vector<std::unique_ptr<Session>> connectAll(const Options& o, int n);

// Creates path (persistent) unless it exists; throws on any other error.
void ensureNode(zhandle_t* zh, const std::string& path, const std::string& data);

constexpr auto kConnectTimeout = std::chrono::seconds(15);

}  // namespace zk::bench

// Session churn and ephemeral churn: threads that open a session, optionally create a few
// ephemeral znodes, and close it again, as fast as the server lets them.
#include <mutex>
#include <stdexcept>
#include <thread>

#include "workloads.h"

namespace zk::bench {
namespace {

constexpr int kEphemeralsPerSession = 10;

struct Tally {
  LatencyHistogram latency;
  uint64_t cycles = 0;
  uint64_t errors = 0;
  uint64_t ephemerals = 0;
};

// Replies of one cycle's creates. It must outlive the session: replies missing after the wait
// arrive as connection-loss completions while the session closes.
struct Pending {
  std::mutex mu;
  std::condition_variable cv;
  int remaining = kEphemeralsPerSession;
  int ok = 0;
};

// Creates the thread's ephemerals with async requests and waits (bounded) for the replies;
// returns how many succeeded.
int createEphemerals(zhandle_t* zh, int thread, const std::string& value, Pending& pending) {
  auto done = [](int rc, const char*, const void* data) {
    auto& p = *static_cast<Pending*>(const_cast<void*>(data));
    std::lock_guard lock(p.mu);
    if (rc == ZOK) ++p.ok;
    if (--p.remaining == 0) p.cv.notify_all();
  };
  int issued = 0;
  for (int i = 0; i < kEphemeralsPerSession; ++i) {
    std::string path = "/zkbench/e/t" + std::to_string(thread) + "-" + std::to_string(i);
    if (zoo_acreate(zh, path.c_str(), value.data(), static_cast<int>(value.size()), openAcl(),
                    ZOO_EPHEMERAL, done, &pending) == ZOK) {
      ++issued;
    }
  }
  std::unique_lock lock(pending.mu);
  pending.remaining -= kEphemeralsPerSession - issued;
  pending.cv.wait_for(lock, std::chrono::seconds(10), [&] { return pending.remaining <= 0; });
  return pending.ok;
}

void churnLoop(const Options& o, const Window& w, bool ephemerals, int thread, Tally& t) {
  std::string value(static_cast<size_t>(o.value_size), 'e');
  while (!w.stopping) {
    int64_t start = nowNanos();
    bool ok = false;
    int64_t connected_at = 0;
    int created = 0;
    Pending pending;
    {
      Session s(o.hosts, o.session_timeout_ms);
      ok = s.waitConnected(Clock::now() + kConnectTimeout);
      connected_at = nowNanos();
      if (ok && ephemerals) created = createEphemerals(s.handle(), thread, value, pending);
    }  // closes the session; the server removes its ephemerals with the close
    int64_t end = nowNanos();
    if (!w.recording) continue;
    if (!ok || (ephemerals && created != kEphemeralsPerSession)) ++t.errors;
    if (!ok) continue;
    ++t.cycles;
    t.ephemerals += static_cast<uint64_t>(created);
    int64_t measured = ephemerals ? end - start : connected_at - start;
    t.latency.record(static_cast<uint64_t>(measured) / 1000);
  }
}

}  // namespace

Result runChurn(const Options& o, bool ephemerals) {
  if (ephemerals) {
    auto setup = connectAll(o, 1);
    ensureNode(setup[0]->handle(), "/zkbench", "");
    ensureNode(setup[0]->handle(), "/zkbench/e", "");
  }
  Window window;
  std::vector<Tally> tallies(static_cast<size_t>(o.sessions));
  std::vector<std::jthread> threads;
  for (int i = 0; i < o.sessions; ++i) {
    threads.emplace_back([&, i] { churnLoop(o, window, ephemerals, i, tallies[i]); });
  }
  Result r;
  r.seconds = runWindow(o, window);
  threads.clear();  // joins: each thread finishes its current cycle
  for (const auto& t : tallies) {
    r.ops += t.cycles;
    r.errors += t.errors;
    r.latency.merge(t.latency);
  }
  uint64_t created = 0;
  for (const auto& t : tallies) created += t.ephemerals;
  if (ephemerals)
    r.extra.emplace_back("ephemerals_per_sec", static_cast<double>(created) / r.seconds);
  return r;
}

}  // namespace zk::bench

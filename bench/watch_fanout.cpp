// Watch fan-out: one writer changes a znode, every watcher session holds a data watch on it.
// The delay of a notification is measured from the moment the set that caused it was sent:
// a watch armed by a read that saw version v fires for version v+1, and the writer recorded
// when it sent the set producing each version.
#include <array>
#include <stdexcept>
#include <thread>

#include "workloads.h"

namespace zk::bench {
namespace {

constexpr char kPath[] = "/zkbench/w";
constexpr size_t kRing = 1 << 16;  // send times kept; the writer is never this far ahead

struct Fanout {
  Window window;
  std::string value;
  std::array<std::atomic<int64_t>, kRing> sent_ns{};  // indexed by version % kRing
  std::atomic<int64_t> next_version{0};
  std::atomic<uint64_t> writes{0};
  std::atomic<uint64_t> write_errors{0};
  std::atomic<bool> writer_done{false};
  std::atomic<int> armed_watchers{0};
};

struct Watcher {
  Fanout* fanout = nullptr;
  zhandle_t* zh = nullptr;
  int64_t armed_version = -1;  // version seen by the read that armed the current watch
  LatencyHistogram latency;    // only this session's completion thread touches these
  uint64_t notifications = 0;
  uint64_t errors = 0;
};

void arm(Watcher& w);

void onWatch(zhandle_t*, int type, int, const char*, void* ctx) {
  auto& w = *static_cast<Watcher*>(ctx);
  if (type != ZOO_CHANGED_EVENT) return;
  Fanout& f = *w.fanout;
  if (f.window.recording) {
    int64_t sent = f.sent_ns[static_cast<size_t>(w.armed_version + 1) % kRing].load();
    w.latency.record(static_cast<uint64_t>(std::max<int64_t>(0, nowNanos() - sent)) / 1000);
    ++w.notifications;
  }
  f.armed_watchers.fetch_sub(1);
  if (!f.window.stopping) arm(w);
}

void onArmed(int rc, const char*, int, const Stat* stat, const void* data) {
  auto& w = *static_cast<Watcher*>(const_cast<void*>(data));
  if (rc != ZOK) {
    ++w.errors;
    return;
  }
  w.armed_version = stat->version;
  w.fanout->armed_watchers.fetch_add(1);
}

void arm(Watcher& w) {
  if (zoo_awget(w.zh, kPath, onWatch, &w, onArmed, &w) != ZOK) ++w.errors;
}

// The writer keeps exactly one set in flight; its completion sends the next one.
struct Writer {
  Fanout* fanout = nullptr;
  zhandle_t* zh = nullptr;
};

void write(Writer& w);

void onWritten(int rc, const Stat*, const void* data) {
  auto& w = *static_cast<Writer*>(const_cast<void*>(data));
  Fanout& f = *w.fanout;
  if (f.window.recording) (rc == ZOK ? f.writes : f.write_errors).fetch_add(1);
  if (f.window.stopping) {
    f.writer_done = true;
    return;
  }
  write(w);
}

void write(Writer& w) {
  Fanout& f = *w.fanout;
  int64_t version = f.next_version.fetch_add(1) + 1;
  f.sent_ns[static_cast<size_t>(version) % kRing] = nowNanos();
  if (zoo_aset(w.zh, kPath, f.value.data(), static_cast<int>(f.value.size()), -1, onWritten, &w) !=
      ZOK) {
    f.write_errors.fetch_add(1);
    f.writer_done = true;
  }
}

}  // namespace

Result runWatchFanout(const Options& o) {
  if (o.sessions < 2) throw std::invalid_argument("watch needs --sessions >= 2 (1 writer)");
  Fanout f;
  f.value.assign(static_cast<size_t>(o.value_size), 'w');
  auto sessions = connectAll(o, o.sessions);
  zhandle_t* writer = sessions[0]->handle();
  ensureNode(writer, "/zkbench", "");
  ensureNode(writer, kPath, f.value);
  Stat stat{};
  if (int rc = zoo_exists(writer, kPath, 0, &stat); rc != ZOK) {
    throw std::runtime_error(std::string("exists ") + kPath + ": " + zerror(rc));
  }
  f.next_version = stat.version;

  std::vector<Watcher> watchers(sessions.size() - 1);
  for (size_t i = 0; i < watchers.size(); ++i) {
    watchers[i].fanout = &f;
    watchers[i].zh = sessions[i + 1]->handle();
    arm(watchers[i]);
  }
  auto deadline = Clock::now() + kConnectTimeout;
  while (f.armed_watchers.load() < static_cast<int>(watchers.size()) && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  Writer writer_state{&f, writer};
  write(writer_state);
  Result r;
  r.seconds = runWindow(o, f.window);
  auto drain_deadline = Clock::now() + std::chrono::seconds(10);
  while (!f.writer_done && Clock::now() < drain_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  sessions.clear();
  for (auto& w : watchers) {
    r.ops += w.notifications;
    r.errors += w.errors;
    r.latency.merge(w.latency);
  }
  r.errors += f.write_errors;
  r.extra.emplace_back("writes", static_cast<double>(f.writes));
  r.extra.emplace_back("watchers", static_cast<double>(watchers.size()));
  return r;
}

}  // namespace zk::bench

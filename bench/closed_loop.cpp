// Closed-loop request workloads: every session keeps --outstanding requests in flight, and each
// completion immediately issues that slot's next request.
#include <chrono>
#include <cstdio>
#include <mutex>
#include <random>
#include <span>
#include <stdexcept>
#include <thread>

#include "workloads.h"

namespace zk::bench {
namespace {

enum class Kind { kGet, kSet, kMixed, kCreate, kPopulate };

constexpr int kPopulateFanout = 1000;  // children per parent, so no single node holds 1M

Kind kindOf(const std::string& w) {
  if (w == "get") return Kind::kGet;
  if (w == "set") return Kind::kSet;
  if (w == "mixed") return Kind::kMixed;
  if (w == "create") return Kind::kCreate;
  return Kind::kPopulate;
}

std::string populatePath(int64_t i) {
  return "/zkbench/p/b" + std::to_string(i / kPopulateFanout) + "/n" +
         std::to_string(i % kPopulateFanout);
}

struct Shared {
  Kind kind;
  Window window;
  std::string value;
  std::vector<std::string> keys;
  std::atomic<int64_t> next_populate{0};
  int64_t populate_total = 0;
  std::atomic<int> active_slots{0};
};

struct Worker;

// One request stream: at most one request of it is in flight at a time.
struct Slot {
  Worker* worker = nullptr;
  int index = 0;
  int64_t start_ns = 0;
  std::mt19937_64 rng;
  std::string path;  // create/populate: the node being created or deleted
  bool deleting = false;
  uint64_t seq = 0;
};

struct Worker {
  Shared* shared = nullptr;
  zhandle_t* zh = nullptr;
  int id = 0;
  LatencyHistogram latency;  // written only by this session's completion thread
  std::atomic<uint64_t> ops{0};
  std::atomic<uint64_t> errors{0};
  std::vector<Slot> slots;
};

void issue(Slot& s);

void finish(Slot& s) {
  s.worker->shared->active_slots.fetch_sub(1);
}

void complete(const void* data, int rc) {
  auto& s = *static_cast<Slot*>(const_cast<void*>(data));
  Worker& w = *s.worker;
  Shared& sh = *w.shared;
  if (sh.window.recording) {
    w.latency.record(static_cast<uint64_t>(nowNanos() - s.start_ns) / 1000);
    (rc == ZOK ? w.ops : w.errors).fetch_add(1, std::memory_order_relaxed);
  }
  if (sh.kind == Kind::kCreate) {
    if (!s.deleting && rc == ZOK) {
      s.deleting = true;  // delete the node even when stopping, to leave the tree as found
      issue(s);
      return;
    }
    s.deleting = false;
    ++s.seq;
  }
  if (sh.window.stopping) return finish(s);
  issue(s);
}

void onData(int rc, const char*, int, const Stat*, const void* data) {
  complete(data, rc);
}
void onStat(int rc, const Stat*, const void* data) {
  complete(data, rc);
}
void onString(int rc, const char*, const void* data) {
  complete(data, rc);
}
void onVoid(int rc, const void* data) {
  complete(data, rc);
}

int issueCreateCycle(Slot& s, zhandle_t* zh, const Shared& sh) {
  if (s.deleting) return zoo_adelete(zh, s.path.c_str(), -1, onVoid, &s);
  s.path = "/zkbench/c/s" + std::to_string(s.worker->id) + "-" + std::to_string(s.index) + "-" +
           std::to_string(s.seq);
  return zoo_acreate(zh, s.path.c_str(), sh.value.data(), static_cast<int>(sh.value.size()),
                     openAcl(), 0, onString, &s);
}

void issue(Slot& s) {
  Shared& sh = *s.worker->shared;
  zhandle_t* zh = s.worker->zh;
  s.start_ns = nowNanos();
  const std::string& key = sh.keys[s.rng() % sh.keys.size()];
  const char* value = sh.value.data();
  int len = static_cast<int>(sh.value.size());
  int rc = ZOK;
  switch (sh.kind) {
    case Kind::kGet:
      rc = zoo_aget(zh, key.c_str(), 0, onData, &s);
      break;
    case Kind::kSet:
      rc = zoo_aset(zh, key.c_str(), value, len, -1, onStat, &s);
      break;
    case Kind::kMixed:
      rc = s.rng() % 10 == 0 ? zoo_aset(zh, key.c_str(), value, len, -1, onStat, &s)
                             : zoo_aget(zh, key.c_str(), 0, onData, &s);
      break;
    case Kind::kCreate:
      rc = issueCreateCycle(s, zh, sh);
      break;
    case Kind::kPopulate: {
      int64_t i = sh.next_populate.fetch_add(1);
      if (i >= sh.populate_total) return finish(s);
      s.path = populatePath(i);
      rc = zoo_acreate(zh, s.path.c_str(), value, len, openAcl(), 0, onString, &s);
      break;
    }
  }
  if (rc != ZOK) {  // the client refused to queue it (e.g. the session is gone)
    s.worker->errors.fetch_add(1);
    finish(s);
  }
}

// Creates paths with async requests on one session, at most kSetupWindow in flight, and waits
// for them. The window keeps setup clear of servers' per-connection limits (zookube pauses
// reading at 1000 requests in flight).
constexpr size_t kSetupWindow = 256;

void createBatch(zhandle_t* zh, std::span<const std::string> paths, const std::string& value) {
  struct Batch {
    std::mutex mu;
    std::condition_variable cv;
    size_t remaining = 0;
    int failure = ZOK;
  } batch;
  batch.remaining = paths.size();
  auto done = [](int rc, const char*, const void* data) {
    auto& b = *static_cast<Batch*>(const_cast<void*>(data));
    std::lock_guard lock(b.mu);
    if (rc != ZOK && rc != ZNODEEXISTS) b.failure = rc;
    if (--b.remaining == 0) b.cv.notify_all();
  };
  for (const auto& p : paths) {
    int rc = zoo_acreate(zh, p.c_str(), value.data(), static_cast<int>(value.size()), openAcl(), 0,
                         done, &batch);
    if (rc != ZOK) throw std::runtime_error("acreate " + p + ": " + zerror(rc));
  }
  std::unique_lock lock(batch.mu);
  if (!batch.cv.wait_for(lock, std::chrono::seconds(60), [&] { return batch.remaining == 0; })) {
    throw std::runtime_error("setup creates did not finish in 60 s");
  }
  if (batch.failure != ZOK)
    throw std::runtime_error(std::string("setup: ") + zerror(batch.failure));
}

void createAll(zhandle_t* zh, const std::vector<std::string>& paths, const std::string& value) {
  std::span<const std::string> all(paths);
  for (size_t i = 0; i < all.size(); i += kSetupWindow) {
    createBatch(zh, all.subspan(i, std::min(kSetupWindow, all.size() - i)), value);
  }
}

void prepareTree(const Options& o, Shared& sh, zhandle_t* zh) {
  ensureNode(zh, "/zkbench", "");
  if (sh.kind == Kind::kPopulate) {
    ensureNode(zh, "/zkbench/p", "");
    std::vector<std::string> parents;
    for (int64_t b = 0; b * kPopulateFanout < o.keys; ++b) {
      parents.push_back("/zkbench/p/b" + std::to_string(b));
    }
    createAll(zh, parents, "");
    sh.populate_total = o.keys;
    return;
  }
  ensureNode(zh, "/zkbench/c", "");
  ensureNode(zh, "/zkbench/k", "");
  for (int i = 0; i < o.keys; ++i) sh.keys.push_back("/zkbench/k/" + std::to_string(i));
  createAll(zh, sh.keys, sh.value);
}

// Waits (bounded) for every slot to see its last reply, so nothing is in flight at close.
void drain(const Shared& sh) {
  auto deadline = Clock::now() + std::chrono::seconds(20);
  while (sh.active_slots.load() > 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace

Result runClosedLoop(const Options& o) {
  Shared sh;
  sh.kind = kindOf(o.workload);
  sh.value.assign(static_cast<size_t>(o.value_size), 'v');
  auto sessions = connectAll(o, o.sessions);
  prepareTree(o, sh, sessions[0]->handle());
  if (sh.keys.empty()) sh.keys.push_back("/zkbench");  // populate never reads keys

  std::vector<Worker> workers(sessions.size());
  for (size_t i = 0; i < workers.size(); ++i) {
    Worker& w = workers[i];
    w.shared = &sh;
    w.zh = sessions[i]->handle();
    w.id = static_cast<int>(i);
    w.slots.resize(static_cast<size_t>(o.outstanding));
    for (int j = 0; j < o.outstanding; ++j) {
      w.slots[j].worker = &w;
      w.slots[j].index = j;
      w.slots[j].rng.seed(i * 1000003 + j);
    }
  }
  bool populate = sh.kind == Kind::kPopulate;
  sh.window.recording = populate;  // populate has no warm-up: every create counts
  sh.active_slots = static_cast<int>(workers.size()) * o.outstanding;
  auto start = Clock::now();
  for (auto& w : workers) {
    for (auto& s : w.slots) issue(s);
  }
  Result r;
  if (populate) {
    auto deadline = start + std::chrono::duration<double>(o.duration_s);
    while (sh.active_slots.load() > 0 && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    sh.window.stopping = true;
    r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  } else {
    r.seconds = runWindow(o, sh.window);
  }
  drain(sh);
  sh.window.recording = false;
  sessions.clear();  // joins the client threads before the workers go away
  for (auto& w : workers) {
    r.ops += w.ops;
    r.errors += w.errors;
    r.latency.merge(w.latency);
  }
  return r;
}

}  // namespace zk::bench

#include "kube/controller.h"

#include <algorithm>
#include <memory>
#include <mutex>

namespace zk::op::kube {
namespace {

using web::json::value;

constexpr char kMembersSelector[] = "app.kubernetes.io/name=zookube";

// What an invalid resource still tells us: enough to write its status.
ZkCluster metaOnly(const value& object) {
  ZkCluster c;
  const value& meta = object.at("metadata");
  c.meta.name = meta.at("name").as_string();
  if (meta.has_string_field("namespace")) c.meta.ns = meta.at("namespace").as_string();
  if (meta.has_string_field("uid")) c.meta.uid = meta.at("uid").as_string();
  if (meta.has_integer_field("generation")) {
    c.meta.generation = meta.at("generation").as_number().to_int64();
  }
  if (object.has_object_field("status")) c.status = parseStatus(object.at("status"));
  return c;
}

// The backend stops at a Wait and at a reconfig it cannot carry out: either way the plan is not
// done, and what it waits for may raise no event.
bool waits(const Plan& p) {
  return std::any_of(p.actions.begin(), p.actions.end(), [](const Action& a) {
    return std::holds_alternative<Wait>(a) || std::holds_alternative<ReconfigAdd>(a) ||
           std::holds_alternative<ReconfigRemove>(a);
  });
}

// Workers may finish clusters at once; the hook (metrics) keeps per-cluster state and is
// written for one caller at a time.
ClusterObserver serialized(ClusterObserver observer) {
  if (!observer) return observer;
  return [mutex = std::make_shared<std::mutex>(), observer = std::move(observer)](
             const ZkCluster& c, const Observed& o, const Plan& p, bool failed, double seconds) {
    std::lock_guard lock(*mutex);
    observer(c, o, p, failed, seconds);
  };
}

}  // namespace

bool syncCluster(KubeBackend& backend, const value& object, const Log& log,
                 const ClusterObserver& observer, bool* waiting) {
  auto begin = std::chrono::steady_clock::now();
  ZkCluster c = metaOnly(object);
  Plan p;
  Observed observed;
  try {
    c = parseZkCluster(object);
    observed = backend.observe(c);
    p = plan(c, backend.targetHash(c), observed);
  } catch (const SpecError& e) {
    // Nothing running is touched: the plan for an invalid spec only reports.
    p = planInvalid(c.status, c.meta.generation, e.errors());
  } catch (const std::exception& e) {
    log(c.meta.ns + "/" + c.meta.name + ": observe failed: " + e.what());
    return false;
  }
  for (const Action& a : p.actions) log(c.meta.ns + "/" + c.meta.name + ": " + describe(a));
  auto failure = backend.execute(c, p);
  if (failure) log(c.meta.ns + "/" + c.meta.name + ": " + *failure);
  if (observer) {
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - begin;
    observer(c, observed, p, failure.has_value(), took.count());
  }
  *waiting = waits(p);
  return !failure;
}

Controller::Controller(KubeClient& client, KubeBackend& backend, const std::string& ns,
                       ControllerOptions options, Log log, ClusterObserver observer)
    : client_(client),
      backend_(backend),
      options_(options),
      log_(std::move(log)),
      observer_(serialized(std::move(observer))),
      queue_(options.rateLimit) {
  auto enqueue = [this](const std::string& key) { this->enqueue(key); };
  auto watchOf = [&](const char* apiVersion, const char* kind, const char* selector, KeyOf keyOf) {
    reflectors_.push_back(std::make_unique<Reflector>(client_, resourcePath(apiVersion, kind, ns),
                                                      selector, std::move(keyOf), enqueue,
                                                      options_.reflector, log_));
  };
  watchOf("zookube.dev/v1alpha1", "ZkCluster", "", keyOfZkCluster);
  watchOf("v1", "Pod", kMembersSelector, keyOfMemberPod);
  watchOf("apps/v1", "StatefulSet", kMembersSelector, keyOfOwnedObject);
  watchOf("v1", "Service", kMembersSelector, keyOfOwnedObject);
  watchOf("v1", "ConfigMap", kMembersSelector, keyOfOwnedObject);
  watchOf("policy/v1", "PodDisruptionBudget", kMembersSelector, keyOfOwnedObject);
  for (auto& r : reflectors_) {
    threads_.emplace_back([&r](std::stop_token stop) { r->run(stop); });
  }
  for (int i = 0; i < std::max(1, options_.workers); ++i) {
    threads_.emplace_back([this](std::stop_token stop) { work(stop); });
  }
  threads_.emplace_back([this](std::stop_token stop) { resyncLoop(stop); });
}

Controller::~Controller() {
  for (auto& t : threads_) t.request_stop();
  // jthread's destructor joins; the workers' waits end on the stop request.
}

void Controller::enqueue(const std::string& key) {
  std::lock_guard lock(mutex_);
  queue_.add(key);
  ++changes_;
  changed_.notify_all();
}

void Controller::resync() {
  for (const std::string& key : reflectors_.front()->keys()) enqueue(key);
}

void Controller::resyncLoop(std::stop_token stop) {
  std::mutex m;
  std::condition_variable_any timer;  // only the stop request wakes it early
  std::unique_lock lock(m);
  while (!timer.wait_for(lock, stop, options_.resyncPeriod, [] { return false; }) &&
         !stop.stop_requested()) {
    resync();
  }
}

void Controller::work(std::stop_token stop) {
  std::unique_lock lock(mutex_);
  while (!stop.stop_requested()) {
    if (auto key = queue_.pop(std::chrono::steady_clock::now())) {
      lock.unlock();
      process(*key);
      lock.lock();
      queue_.done(*key);
      ++changes_;
      changed_.notify_all();
      continue;
    }
    // Sleep until a key is added or a delayed one is due.
    std::uint64_t before = changes_;
    auto due = queue_.nextDelayed();
    auto woken = [&] { return changes_ != before; };
    if (due) {
      changed_.wait_until(lock, stop, *due, woken);
    } else {
      changed_.wait(lock, stop, woken);
    }
  }
}

void Controller::process(const std::string& key) {
  size_t slash = key.find('/');
  std::string ns = key.substr(0, slash), name = key.substr(slash + 1);
  bool ok = false, waiting = false;
  try {
    auto object = client_.getIfExists(resourcePath("zookube.dev/v1alpha1", "ZkCluster", ns, name));
    // Gone, or going: garbage collection removes what it owned; applying now would race it.
    if (!object || object->at("metadata").has_field("deletionTimestamp")) {
      std::lock_guard lock(mutex_);
      queue_.forget(key);
      return;
    }
    ok = syncCluster(backend_, *object, log_, observer_, &waiting);
  } catch (const std::exception& e) {
    log_(key + ": reconcile failed: " + e.what());
  }
  std::lock_guard lock(mutex_);
  if (!ok) {
    queue_.addRateLimited(key, std::chrono::steady_clock::now());
    log_(key + ": retry " + std::to_string(queue_.failures(key)));
    return;
  }
  queue_.forget(key);
  if (waiting) queue_.addAfter(key, options_.waitRequeue, std::chrono::steady_clock::now());
}

}  // namespace zk::op::kube

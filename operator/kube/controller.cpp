#include "kube/controller.h"

#include <algorithm>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>

namespace zk::op::kube {
namespace {

constexpr char kMembersSelector[] = "app.kubernetes.io/name=zookube";

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
  // Users' Secrets and ConfigMaps carry no label of ours: every one is watched, and its key
  // ("ns/name", not a cluster's) is mapped to the clusters that read it.
  reflectors_.push_back(std::make_unique<Reflector>(
      client_, resourcePath("v1", "Secret", ns), "", keyOfZkCluster,
      [this](const std::string& key) { referenceChanged(secretsOf_, key); }, options_.reflector,
      log_));
  reflectors_.push_back(std::make_unique<Reflector>(
      client_, resourcePath("v1", "ConfigMap", ns), "", keyOfZkCluster,
      [this](const std::string& key) { referenceChanged(configMapsOf_, key); }, options_.reflector,
      log_));
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
      process(*key, stop);
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

namespace {

// spec.<path...>.name when every step is an object and the name a string.
std::optional<std::string> refName(const web::json::value& spec,
                                   std::initializer_list<const char*> path) {
  const web::json::value* at = &spec;
  for (const char* step : path) {
    if (!at->has_object_field(step)) return std::nullopt;
    at = &at->at(step);
  }
  if (!at->has_string_field("name")) return std::nullopt;
  return at->at("name").as_string();
}

}  // namespace

void Controller::noteReferences(const std::string& key, const web::json::value& object) {
  std::string ns = key.substr(0, key.find('/'));
  std::set<std::string> secrets, configMaps;
  const auto& spec = object.has_object_field("spec") ? object.at("spec") : web::json::value();
  if (auto super = refName(spec, {"superUserSecret"})) {
    secrets.insert(ns + "/" + *super);
  } else {
    ZkCluster named;
    named.meta.name = object.at("metadata").at("name").as_string();
    secrets.insert(ns + "/" + generatedSuperSecretName(named));
  }
  // spec.auth.sasl's users: a changed password reaches the JAAS file (and rolls the members).
  if (spec.has_object_field("auth") && spec.at("auth").has_object_field("sasl") &&
      spec.at("auth").at("sasl").has_array_field("users")) {
    for (const auto& user : spec.at("auth").at("sasl").at("users").as_array()) {
      if (auto name = refName(user, {"passwordSecretRef"})) secrets.insert(ns + "/" + *name);
    }
  }
  // spec.auth.kerberos: a new keytab or krb5.conf rolls the members onto it.
  if (auto keytab = refName(spec, {"auth", "kerberos", "keytabSecretRef"})) {
    secrets.insert(ns + "/" + *keytab);
  }
  // spec.tls.caSecretRef: a new CA in it starts the rotation to it (render/ca_rotation.h).
  if (auto ca = refName(spec, {"tls", "caSecretRef"})) secrets.insert(ns + "/" + *ca);
  if (auto krb5 = refName(spec, {"auth", "kerberos", "krb5ConfigRef"})) {
    configMaps.insert(ns + "/" + *krb5);
  }
  std::lock_guard lock(mutex_);
  secretsOf_[key] = std::move(secrets);
  configMapsOf_[key] = std::move(configMaps);
}

void Controller::referenceChanged(const References& referencesOf, const std::string& objectKey) {
  std::vector<std::string> clusters;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [cluster, names] : referencesOf) {
      if (names.contains(objectKey)) clusters.push_back(cluster);
    }
  }
  for (const std::string& cluster : clusters) enqueue(cluster);
}

void Controller::process(const std::string& key, std::stop_token stop) {
  size_t slash = key.find('/');
  std::string ns = key.substr(0, slash), name = key.substr(slash + 1);
  ClusterOutcome outcome;
  try {
    auto object = client_.getIfExists(resourcePath("zookube.dev/v1alpha1", "ZkCluster", ns, name));
    // Gone, or going: garbage collection removes what it owned; applying now would race it.
    if (!object || object->at("metadata").has_field("deletionTimestamp")) {
      std::lock_guard lock(mutex_);
      queue_.forget(key);
      secretsOf_.erase(key);
      configMapsOf_.erase(key);
      return;
    }
    noteReferences(key, *object);
    outcome = reconcileCluster(backend_, *object, log_, observer_, stop);
  } catch (const std::exception& e) {
    log_(key + ": reconcile failed: " + e.what());
  }
  std::lock_guard lock(mutex_);
  if (!outcome.ok) {
    queue_.addRateLimited(key, std::chrono::steady_clock::now());
    log_(key + ": retry " + std::to_string(queue_.failures(key)));
    return;
  }
  queue_.forget(key);
  if (outcome.waiting) queue_.addAfter(key, options_.waitRequeue, std::chrono::steady_clock::now());
}

}  // namespace zk::op::kube

#include "kube/reflector.h"

#include <algorithm>
#include <condition_variable>
#include <set>
#include <stdexcept>

namespace zk::op::kube {
namespace {

using web::json::value;

constexpr char kInstanceLabel[] = "app.kubernetes.io/instance";

std::string field(const value& object, const char* name) {
  return object.has_string_field(name) ? object.at(name).as_string() : std::string();
}

std::string objectKey(const value& object) {
  if (!object.has_object_field("metadata")) return {};
  const value& meta = object.at("metadata");
  return field(meta, "namespace") + "/" + field(meta, "name");
}

std::string resourceVersionOf(const value& object) {
  return object.has_object_field("metadata") ? field(object.at("metadata"), "resourceVersion")
                                             : std::string();
}

// Thrown from inside the stream's callback to leave it for a relist.
struct Gone {};

}  // namespace

std::optional<std::string> keyOfZkCluster(const value& object) {
  std::string key = objectKey(object);
  if (key.empty() || key.back() == '/') return std::nullopt;
  return key;
}

std::optional<std::string> keyOfMemberPod(const value& object) {
  if (!object.has_object_field("metadata")) return std::nullopt;
  const value& meta = object.at("metadata");
  if (!meta.has_object_field("labels") || !meta.at("labels").has_string_field(kInstanceLabel)) {
    return std::nullopt;
  }
  return field(meta, "namespace") + "/" + meta.at("labels").at(kInstanceLabel).as_string();
}

std::optional<std::string> keyOfOwnedObject(const value& object) {
  if (!object.has_object_field("metadata")) return std::nullopt;
  const value& meta = object.at("metadata");
  if (!meta.has_array_field("ownerReferences")) return std::nullopt;
  for (const value& owner : meta.at("ownerReferences").as_array()) {
    if (field(owner, "kind") == "ZkCluster" && !field(owner, "name").empty()) {
      return field(meta, "namespace") + "/" + field(owner, "name");
    }
  }
  return std::nullopt;
}

WatchEvent parseWatchEvent(std::string_view line) {
  value v = value::parse(std::string(line));
  if (!v.has_string_field("type") || !v.has_object_field("object")) {
    throw std::runtime_error("not a watch event: " + std::string(line.substr(0, 200)));
  }
  return WatchEvent{v.at("type").as_string(), v.at("object")};
}

std::vector<std::string> ReflectorState::replace(const value& list) {
  std::set<std::string> keys;
  for (const auto& [object, key] : known_) keys.insert(key);  // gone since: their clusters look
  known_.clear();
  for (const value& item : list.at("items").as_array()) {
    if (auto key = keyOf_(item)) {
      known_[objectKey(item)] = *key;
      keys.insert(*key);
    }
  }
  resourceVersion_ = resourceVersionOf(list);
  return {keys.begin(), keys.end()};
}

ReflectorState::Step ReflectorState::apply(const WatchEvent& event) {
  Step step;
  if (event.type == "ERROR") {
    // The object is a Status; 410 means the resourceVersion fell out of the server's window.
    const value& status = event.object;
    bool gone = status.has_integer_field("code") && status.at("code").as_integer() == 410;
    (gone ? step.relist : step.failed) = true;
    return step;
  }
  if (event.type != "ADDED" && event.type != "MODIFIED" && event.type != "DELETED" &&
      event.type != "BOOKMARK") {
    step.failed = true;
    return step;
  }
  if (std::string rv = resourceVersionOf(event.object); !rv.empty()) resourceVersion_ = rv;
  if (event.type == "BOOKMARK") return step;
  std::string name = objectKey(event.object);
  auto previous = known_.find(name);
  if (previous != known_.end()) step.keys.push_back(previous->second);
  std::optional<std::string> key = keyOf_(event.object);
  if (key && (step.keys.empty() || step.keys.front() != *key)) step.keys.push_back(*key);
  if (event.type == "DELETED" || !key) {
    known_.erase(name);
  } else {
    known_[name] = *key;
  }
  return step;
}

std::vector<std::string> ReflectorState::keys() const {
  std::set<std::string> keys;
  for (const auto& [object, key] : known_) keys.insert(key);
  return {keys.begin(), keys.end()};
}

Reflector::Reflector(KubeClient& client, std::string path, std::string labelSelector, KeyOf keyOf,
                     Enqueue enqueue, ReflectorOptions options, Log log)
    : client_(client),
      path_(std::move(path)),
      labelSelector_(std::move(labelSelector)),
      enqueue_(std::move(enqueue)),
      options_(options),
      log_(std::move(log)),
      state_(std::move(keyOf)) {}

std::vector<std::string> Reflector::keys() const {
  std::lock_guard lock(mutex_);
  return state_.keys();
}

void Reflector::enqueueAll(const std::vector<std::string>& keys) {
  for (const std::string& key : keys) enqueue_(key);
}

void Reflector::list() {
  value list = client_.list(path_, labelSelector_);
  std::vector<std::string> keys;
  {
    std::lock_guard lock(mutex_);
    keys = state_.replace(list);
  }
  enqueueAll(keys);
}

bool Reflector::watchOnce(std::stop_token stop) {
  pplx::cancellation_token_source cancel;
  std::stop_callback onStop(stop, [&cancel] { cancel.cancel(); });
  std::string from;
  {
    std::lock_guard lock(mutex_);
    from = state_.resourceVersion();
  }
  auto onLine = [this](std::string_view line) {
    ReflectorState::Step step;
    {
      std::lock_guard lock(mutex_);
      step = state_.apply(parseWatchEvent(line));
    }
    enqueueAll(step.keys);
    if (step.relist) throw Gone{};
    if (step.failed) throw std::runtime_error("error event: " + std::string(line.substr(0, 300)));
  };
  try {
    client_.watch(path_, labelSelector_, from, options_.watchTimeout, onLine, cancel.get_token());
  } catch (const Gone&) {
    return true;
  }
  return false;
}

bool Reflector::pause(std::stop_token stop, std::chrono::milliseconds wait) {
  std::mutex m;
  std::condition_variable_any cv;
  std::unique_lock lock(m);
  cv.wait_for(lock, stop, wait, [] { return false; });
  return !stop.stop_requested();
}

void Reflector::run(std::stop_token stop) {
  std::chrono::milliseconds backoff = options_.minBackoff;
  auto failed = [&](const std::string& what) {
    if (stop.stop_requested()) return false;
    log_(path_ + ": " + what + "; again in " + std::to_string(backoff.count()) + " ms");
    bool go = pause(stop, backoff);
    backoff = std::min(backoff * 2, options_.maxBackoff);
    return go;
  };
  while (!stop.stop_requested()) {
    try {
      list();
      backoff = options_.minBackoff;
    } catch (const std::exception& e) {
      if (!failed(std::string("list failed: ") + e.what())) return;
      continue;
    }
    while (!stop.stop_requested()) {
      try {
        if (watchOnce(stop)) {
          log_(path_ + ": resourceVersion gone (410), listing again");
          break;
        }
        backoff = options_.minBackoff;  // the server ended the watch; watch again from where it was
      } catch (const ApiError& e) {
        if (e.status() == 410) {
          log_(path_ + ": resourceVersion gone (410), listing again");
          break;
        }
        if (!failed(std::string("watch refused: ") + e.what())) return;
      } catch (const std::exception& e) {
        if (!failed(std::string("watch dropped: ") + e.what())) return;
      }
    }
  }
}

}  // namespace zk::op::kube

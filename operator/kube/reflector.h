#pragma once
// List-then-watch of one kind, as client-go's reflector does it: list for a resourceVersion,
// watch from it, advance it with every event (BOOKMARK events carry only that), resume a dropped
// stream from the last resourceVersion, and list again on 410 Gone. Every change turns into the
// key ("namespace/name") of the ZkCluster it concerns, for the work queue.

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "kube/kube_client.h"

namespace zk::op::kube {

// The ZkCluster an object concerns, as "namespace/name"; nullopt when none.
using KeyOf = std::function<std::optional<std::string>(const web::json::value& object)>;
std::optional<std::string> keyOfZkCluster(const web::json::value& object);
// A pod by its app.kubernetes.io/instance label (its owner is a StatefulSet, not the cluster).
std::optional<std::string> keyOfMemberPod(const web::json::value& object);
// An object whose ownerReferences name a ZkCluster.
std::optional<std::string> keyOfOwnedObject(const web::json::value& object);

struct WatchEvent {
  std::string type;  // ADDED, MODIFIED, DELETED, BOOKMARK or ERROR
  web::json::value object;
};
// One line of a watch stream; throws std::exception if it is not a watch event.
WatchEvent parseWatchEvent(std::string_view line);

// What a reflector knows, without I/O: the resourceVersion to watch from and the objects seen,
// so that a relist also reports the clusters whose objects disappeared while it was not watching.
class ReflectorState {
 public:
  explicit ReflectorState(KeyOf keyOf) : keyOf_(std::move(keyOf)) {}

  // A fresh List: the keys of what it holds and of what went away since the last one.
  std::vector<std::string> replace(const web::json::value& list);

  struct Step {
    std::vector<std::string> keys;  // to enqueue
    bool relist = false;            // the watch is gone (410): list again
    bool failed = false;            // any other ERROR event: end this watch, watch again
  };
  Step apply(const WatchEvent& event);

  const std::string& resourceVersion() const { return resourceVersion_; }
  // Every key an object currently known maps to (for the periodic resync).
  std::vector<std::string> keys() const;

 private:
  KeyOf keyOf_;
  std::string resourceVersion_;
  std::map<std::string, std::string> known_;  // object's namespace/name -> its cluster's key
};

struct ReflectorOptions {
  std::chrono::seconds watchTimeout{300};  // timeoutSeconds asked of the server per watch
  std::chrono::milliseconds minBackoff{100};
  std::chrono::milliseconds maxBackoff{5000};
};

// Runs the list-and-watch loop in the caller's thread until `stop`.
class Reflector {
 public:
  using Enqueue = std::function<void(const std::string& key)>;
  using Log = std::function<void(const std::string&)>;

  Reflector(KubeClient& client, std::string path, std::string labelSelector, KeyOf keyOf,
            Enqueue enqueue, ReflectorOptions options, Log log);

  void run(std::stop_token stop);
  std::vector<std::string> keys() const;

 private:
  void list();
  // One watch request; true if it ended because the resourceVersion is gone.
  bool watchOnce(std::stop_token stop);
  void enqueueAll(const std::vector<std::string>& keys);
  // False if `stop` came first.
  bool pause(std::stop_token stop, std::chrono::milliseconds wait);

  KubeClient& client_;
  std::string path_;
  std::string labelSelector_;
  Enqueue enqueue_;
  ReflectorOptions options_;
  Log log_;
  mutable std::mutex mutex_;  // state_ is read by the resync
  ReflectorState state_;
};

}  // namespace zk::op::kube

#pragma once
// The watch-driven controller: reflectors on ZkClusters and on the kinds the operator owns feed
// the keys of the clusters they concern into a rate-limited work queue (a Secret: the clusters
// whose super user's password it holds); workers reconcile one
// cluster per key (never one key in two workers), retry failures with backoff, come back to a
// cluster whose plan waits, and every key is queued again each resync period.
//
// It runs while this replica leads; destroying it stops the threads (an in-flight reconcile
// finishes first).

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "backends/kube/kube_reconciler.h"
#include "kube/reflector.h"
#include "kube/work_queue.h"

namespace zk::op::kube {

struct ControllerOptions {
  int workers = 1;
  std::chrono::milliseconds resyncPeriod = std::chrono::minutes(10);
  // A cluster whose plan waits (a member restarting, a quorum to come back) is looked at again
  // this soon: what it waits for (a member's `srvr`) raises no API event.
  std::chrono::milliseconds waitRequeue{2000};
  RateLimit rateLimit;
  ReflectorOptions reflector;
};

class Controller {
 public:
  // `ns` empty: every namespace.
  Controller(KubeClient& client, KubeBackend& backend, const std::string& ns,
             ControllerOptions options, Log log, ClusterObserver observer);
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  void enqueue(const std::string& key);
  // Every ZkCluster key the reflector knows, queued again.
  void resync();

 private:
  void work(std::stop_token stop);
  void resyncLoop(std::stop_token stop);
  // One key; on return it is queued again if it failed or waits. `stop` fences the reconcile:
  // once leadership is lost, no further action of its plan is carried out.
  void process(const std::string& key, std::stop_token stop);
  // cluster key -> "ns/name"s of the Secrets (or ConfigMaps) its spec reads.
  using References = std::map<std::string, std::set<std::string>>;
  // The Secrets and ConfigMaps a cluster's spec reads (super user, SASL passwords, Kerberos
  // keytab and krb5.conf), noted at each reconcile, so a change of one queues the cluster.
  void noteReferences(const std::string& key, const web::json::value& object);
  void referenceChanged(const References& referencesOf, const std::string& objectKey);

  KubeClient& client_;
  KubeBackend& backend_;
  ControllerOptions options_;
  Log log_;
  ClusterObserver observer_;

  std::mutex mutex_;
  std::condition_variable_any changed_;
  WorkQueue queue_;
  std::uint64_t changes_ = 0;  // bumped on every add and done: wakes a worker to look again
  References secretsOf_;
  References configMapsOf_;

  std::vector<std::unique_ptr<Reflector>> reflectors_;  // [0]: ZkClusters
  std::vector<std::jthread> threads_;                   // declared last: stopped first
};

}  // namespace zk::op::kube

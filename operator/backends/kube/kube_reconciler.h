#pragma once
// One reconcile pass over every ZkCluster in scope: list, parse, observe, plan, execute. The
// resource is the planner's only memory, so a pass may run in a fresh process at any time.

#include <functional>
#include <optional>
#include <stop_token>
#include <string>

#include "backends/kube/kube_backend.h"
#include "kube/kube_client.h"
#include "kube/leader_election.h"

namespace zk::op::kube {

using Log = std::function<void(const std::string&)>;

// Called after each cluster's reconcile, for metrics: what was seen, what was planned, whether
// carrying it out failed, how long it took. `observed` is empty for an invalid spec.
using ClusterObserver = std::function<void(const ZkCluster& c, const Observed& observed,
                                           const Plan& plan, bool failed, double seconds)>;

struct ClusterOutcome {
  bool ok = false;       // every step succeeded
  bool waiting = false;  // the plan is not done and what it waits for may raise no API event
};

// Reconciles one ZkCluster object: parse, observe, plan, execute. Used by the relisting pass
// below and by the watch-driven controller (kube/controller.h). Once `fence` is stopped
// (leadership lost) no further action of the plan is carried out.
ClusterOutcome reconcileCluster(KubeBackend& backend, const web::json::value& object,
                                const Log& log, const ClusterObserver& observer,
                                std::stop_token fence = {});

struct PassReport {
  bool leading = true;  // false: another instance leads, or the Lease cannot be renewed
  std::string standby;  // why not leading
  int clusters = 0;
  int failures = 0;
};

class KubeReconciler {
 public:
  // `ns` empty: every namespace. `elector` null: no leader election (a single replica).
  KubeReconciler(KubeClient& client, KubeBackend& backend, std::string ns, LeaderElector* elector,
                 Log log);

  PassReport pass();
  void onCluster(ClusterObserver observer) { observer_ = std::move(observer); }

 private:
  KubeClient& client_;
  KubeBackend& backend_;
  std::string ns_;
  LeaderElector* elector_;
  Log log_;
  ClusterObserver observer_;
};

}  // namespace zk::op::kube

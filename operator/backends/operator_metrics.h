#pragma once
// The operator's own Prometheus metrics, the same whichever backend runs the plan: reconcile
// counts and errors, each member's role, the leader, quorum health and the roll's progress.

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "plan/plan.h"

namespace zk::op {

class OperatorMetrics {
 public:
  // Serves /metrics on `address` ("host:port"); throws if it cannot listen.
  explicit OperatorMetrics(const std::string& address);

  void reconciled(const std::string& cluster, double seconds, bool failed);
  // reason: "roll" (the operator restarted it on purpose) or "recovered" (its process had died
  // and the operator started it again).
  void restarted(const std::string& cluster, const std::string& member, const std::string& reason);
  // Member roles, leader, quorum and roll progress from one pass's observation and plan; with
  // spec.tls, when each member's certificate expires (Observed::tls, either backend).
  void observed(const ZkCluster& c, const Observed& o, const Plan& p);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  prometheus::Family<prometheus::Counter>& reconciles_;
  prometheus::Family<prometheus::Counter>& errors_;
  prometheus::Family<prometheus::Histogram>& duration_;
  prometheus::Family<prometheus::Counter>& restarts_;
  prometheus::Family<prometheus::Counter>& leaderChanges_;
  prometheus::Family<prometheus::Gauge>& memberUp_;
  prometheus::Family<prometheus::Gauge>& memberReady_;
  prometheus::Family<prometheus::Gauge>& memberZxid_;
  prometheus::Family<prometheus::Gauge>& leaderId_;
  prometheus::Family<prometheus::Gauge>& quorumHealthy_;
  prometheus::Family<prometheus::Gauge>& membersByRole_;
  prometheus::Family<prometheus::Gauge>& rollActive_;
  prometheus::Family<prometheus::Gauge>& rollRestarted_;
  prometheus::Family<prometheus::Gauge>& rollTotal_;
  prometheus::Family<prometheus::Gauge>& certificateExpiry_;
  std::map<std::string, int>
      lastLeader_;  // per cluster: the last member seen leading (0: none yet)
};

}  // namespace zk::op

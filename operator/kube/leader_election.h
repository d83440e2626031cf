#pragma once
// Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does: the
// holder renews spec.renewTime; another candidate takes the Lease over only after
// leaseDurationSeconds without a renewal. Every write is a conditional PUT (resourceVersion), so
// two candidates that race both read the same version and the API server lets exactly one win.

#include <chrono>
#include <functional>
#include <string>

#include "kube/kube_client.h"

namespace zk::op::kube {

struct LeaseOptions {
  std::string ns;
  std::string name = "zookube-operator";
  std::string identity;  // unique per candidate (pod name + random)
  std::chrono::seconds leaseDuration{15};
};

// The wall clock as RFC 3339 with microseconds (the Lease's MicroTime); replaceable in tests.
using WallClock = std::function<std::chrono::system_clock::time_point()>;

class LeaderElector {
 public:
  LeaderElector(
      KubeClient& client, LeaseOptions options,
      WallClock now = [] { return std::chrono::system_clock::now(); });

  // Acquires the Lease if it is free or expired, renews it if held; true while this candidate
  // leads. An API error counts as not leading: a leader that cannot renew must stop acting
  // before its Lease runs out and someone else takes over.
  bool tryAcquireOrRenew();

  // Gives the Lease up (on SIGTERM) so a standby takes over without waiting for expiry.
  void release();

 private:
  web::json::value leaseObject(const web::json::value& previous, bool takeOver) const;

  KubeClient& client_;
  LeaseOptions options_;
  WallClock now_;
};

std::string microTime(std::chrono::system_clock::time_point t);
// Parses "2006-01-02T15:04:05[.ffffff]Z"; nullopt if it is not in that form.
std::optional<std::chrono::system_clock::time_point> parseMicroTime(const std::string& text);

}  // namespace zk::op::kube

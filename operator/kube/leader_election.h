#pragma once
// Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it.
//
// LeaderElection is the rules, pure, with the time passed in: a Lease held by another candidate
// is valid for leaseDurationSeconds from when *this* candidate last saw its record change (its
// own clock, never the holder's renewTime, so clock skew between replicas does not matter); the
// leader stops leading when it has not renewed within the renew deadline, before any standby may
// take over. LeaderElector does the I/O: every write is a conditional PUT (resourceVersion), so
// two candidates that race both read the same version and the API server lets exactly one win.

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "kube/kube_client.h"

namespace zk::op::kube {

struct LeaseTimings {
  std::chrono::milliseconds leaseDuration{15000};  // a standby waits this long for a renewal
  std::chrono::milliseconds renewDeadline{10000};  // the leader gives up unrenewed after this
  std::chrono::milliseconds retryPeriod{2000};     // between attempts
};

struct LeaseOptions {
  std::string ns;
  std::string name = "zookube-operator";
  std::string identity;  // unique per candidate (pod name + random)
  LeaseTimings timings;
};

// What a Lease's spec says, as far as the election is concerned.
struct LeaseRecord {
  std::string holder;
  int leaseDurationSeconds = 0;
  std::string acquireTime;
  std::string renewTime;
  int transitions = 0;
  bool operator==(const LeaseRecord&) const = default;
};
LeaseRecord leaseRecordOf(const web::json::value& lease);

class LeaderElection {
 public:
  using Time = std::chrono::steady_clock::time_point;
  LeaderElection(std::string identity, LeaseTimings timings);

  // A read of the Lease at `now`: nullopt if there is none.
  void observe(const std::optional<LeaseRecord>& record, Time now);
  // May this candidate write the Lease now (create, renew or take it over)?
  bool mayWrite(Time now) const;
  // Our write of `record` succeeded: we hold the Lease from `now`.
  void renewed(const LeaseRecord& record, Time now);
  // While true, this candidate may act: it renewed within the renew deadline.
  bool leading(Time now) const;
  // The holder another candidate's record names ("" when none or ours).
  std::string otherHolder() const;
  const std::string& identity() const { return identity_; }
  const LeaseTimings& timings() const { return timings_; }

 private:
  std::string identity_;
  LeaseTimings timings_;
  std::optional<LeaseRecord> record_;  // as last read or written
  Time observedAt_{};                  // when record_ last changed, on our clock
  std::optional<Time> renewedAt_;      // our last successful write
};

// The wall clock, for the Lease's MicroTime fields; replaceable in tests.
using WallClock = std::function<std::chrono::system_clock::time_point()>;
using SteadyClock = std::function<std::chrono::steady_clock::time_point()>;

class LeaderElector {
 public:
  LeaderElector(
      KubeClient& client, LeaseOptions options,
      WallClock wall = [] { return std::chrono::system_clock::now(); },
      SteadyClock steady = [] { return std::chrono::steady_clock::now(); });

  enum class Outcome { kLeading, kHeldByOther, kNotLeading, kFailed };
  struct Attempt {
    Outcome outcome;
    std::string detail;  // the holder (kHeldByOther) or the error (kFailed)
  };
  // Reads the Lease and acquires, renews or takes it over where the rules allow. An API error is
  // kFailed (still leading while within the renew deadline), never "another replica leads".
  Attempt tryAcquireOrRenew();
  // Leading now, without a request: within the renew deadline of the last renewal.
  bool leading() const { return election_.leading(steady_()); }

  // Gives the Lease up (on SIGTERM) so a standby takes over without waiting for expiry.
  void release();

 private:
  web::json::value leaseObject(const web::json::value& previous, bool takeOver) const;

  KubeClient& client_;
  LeaseOptions options_;
  WallClock wall_;
  SteadyClock steady_;
  LeaderElection election_;
};

// One line for the log: "standby: op-b holds the Lease", "cannot renew: ...".
std::string describe(const LeaderElector::Attempt& attempt);

std::string microTime(std::chrono::system_clock::time_point t);
// Parses "2006-01-02T15:04:05[.ffffff]Z"; nullopt if it is not in that form.
std::optional<std::chrono::system_clock::time_point> parseMicroTime(const std::string& text);

}  // namespace zk::op::kube

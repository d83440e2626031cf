#include "backends/kube/kube_reconciler.h"

#include <algorithm>
#include <chrono>

namespace zk::op::kube {
namespace {

using web::json::value;

// What an invalid resource still tells us: enough to write its status.
ZkCluster metaOnly(const value& object) {
  ZkCluster c;
  const value& meta = object.at("metadata");
  c.meta.name = meta.at("name").as_string();
  if (meta.has_string_field("namespace")) c.meta.ns = meta.at("namespace").as_string();
  if (meta.has_string_field("uid")) c.meta.uid = meta.at("uid").as_string();
  if (meta.has_integer_field("generation"))
    c.meta.generation = meta.at("generation").as_number().to_int64();
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

// Refused while carrying the plan out: report it at once. The pass still failed, so it is retried
// with backoff, and the next pass applies first to see whether it still is refused.
Plan reportRefusal(KubeBackend& backend, const ZkCluster& c, const Plan& failed,
                   const Observed& observed, const KubeBackend::SuperUser& super, const Log& log,
                   std::stop_token fence) {
  ZkCluster written = c;  // the failed plan's status went out first, before what failed
  if (std::holds_alternative<UpdateStatus>(failed.actions.front())) written.status = failed.status;
  Plan report = plan(written, backend.targetHash(c, super), observed);
  std::string who = c.meta.ns + "/" + c.meta.name + ": ";
  for (const Action& a : report.actions) log(who + describe(a));
  if (auto again = backend.execute(written, report, super, fence)) log(who + again->message);
  return report;
}

}  // namespace

ClusterOutcome reconcileCluster(KubeBackend& backend, const value& object, const Log& log,
                                const ClusterObserver& observer, std::stop_token fence) {
  auto begin = std::chrono::steady_clock::now();
  ZkCluster c = metaOnly(object);
  std::string who = c.meta.ns + "/" + c.meta.name + ": ";
  Plan p;
  Observed observed;
  KubeBackend::SuperUser super;
  std::optional<ExecuteFailure> failure;
  try {
    c = parseZkCluster(object);
    observed = backend.observe(c);
    try {
      super = backend.superUser(c);
      if (auto refused = backend.retryRefusedApply(c, super)) observed.blockers.push_back(*refused);
    } catch (const Blocked& e) {
      observed.blockers.push_back(e.blocker());
    }
    p = plan(c, backend.targetHash(c, super), observed);
  } catch (const SpecError& e) {
    // Nothing running is touched: the plan for an invalid spec only reports.
    p = planInvalid(c.status, c.meta.generation, e.errors());
  } catch (const std::exception& e) {
    log(who + "observe failed: " + e.what());
    return {};
  }
  for (const Action& a : p.actions) log(who + describe(a));
  failure = backend.execute(c, p, super, fence);
  if (failure) log(who + failure->message);
  if (failure && failure->blocker) {
    observed.blockers.push_back(*failure->blocker);
    p = reportRefusal(backend, c, p, observed, super, log, fence);
  }
  bool held = std::any_of(observed.blockers.begin(), observed.blockers.end(),
                          [](const Blocker& b) { return infoOf(b.cause).holdsApply; });
  if (observer) {
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - begin;
    observer(c, observed, p, failure.has_value() || held, took.count());
  }
  // A cause that holds every apply back fails the pass: the work queue retries it with backoff.
  return {!failure && !held, waits(p)};
}

KubeReconciler::KubeReconciler(KubeClient& client, KubeBackend& backend, std::string ns,
                               LeaderElector* elector, Log log)
    : client_(client),
      backend_(backend),
      ns_(std::move(ns)),
      elector_(elector),
      log_(std::move(log)) {}

PassReport KubeReconciler::pass() {
  PassReport report;
  if (elector_) {
    auto attempt = elector_->tryAcquireOrRenew();
    if (!elector_->leading()) {
      report.leading = false;
      report.standby = describe(attempt);
      return report;
    }
  }
  value list = client_.list(resourcePath("zookube.dev/v1alpha1", "ZkCluster", ns_));
  for (const value& object : list.at("items").as_array()) {
    // Going away: garbage collection removes what it owns; applying now would only race it.
    if (object.at("metadata").has_field("deletionTimestamp")) continue;
    ++report.clusters;
    if (!reconcileCluster(backend_, object, log_, observer_).ok) ++report.failures;
  }
  return report;
}

}  // namespace zk::op::kube

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

}  // namespace

ClusterOutcome reconcileCluster(KubeBackend& backend, const value& object, const Log& log,
                                const ClusterObserver& observer) {
  auto begin = std::chrono::steady_clock::now();
  ZkCluster c = metaOnly(object);
  Plan p;
  Observed observed;
  KubeBackend::SuperUser super;
  try {
    c = parseZkCluster(object);
    observed = backend.observe(c);
    super = backend.superUser(c);
    p = plan(c, backend.targetHash(c, super.digest), observed);
  } catch (const SpecError& e) {
    // Nothing running is touched: the plan for an invalid spec only reports.
    p = planInvalid(c.status, c.meta.generation, e.errors());
  } catch (const std::exception& e) {
    log(c.meta.ns + "/" + c.meta.name + ": observe failed: " + e.what());
    return {};
  }
  for (const Action& a : p.actions) log(c.meta.ns + "/" + c.meta.name + ": " + describe(a));
  auto failure = backend.execute(c, p, super);
  if (failure) log(c.meta.ns + "/" + c.meta.name + ": " + *failure);
  if (observer) {
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - begin;
    observer(c, observed, p, failure.has_value(), took.count());
  }
  return {!failure, waits(p)};
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
  if (elector_ && !elector_->tryAcquireOrRenew()) {
    report.leading = false;
    return report;
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

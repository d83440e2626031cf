// The Kubernetes backend's side of spec.storage: what the live StatefulSets' claim templates say,
// and growing the volumes. A StatefulSet's volumeClaimTemplates cannot be edited, so growing is
// done as Kubernetes users do it by hand: patch every claim, delete the StatefulSet with
// propagationPolicy=Orphan (its pods keep running; updateStrategy OnDelete means nothing
// restarts) and apply it again with the new template, which adopts the pods by their labels.
// Every step is idempotent, so an operator stopped half way finishes on its next pass.
#include <algorithm>

#include "backends/kube/kube_backend.h"
#include "plan/storage_change.h"

namespace zk::op::kube {
namespace {

using web::json::value;

std::optional<AppliedStorage> claimTemplateOf(const value& sts) {
  if (!sts.has_object_field("spec") || !sts.at("spec").has_array_field("volumeClaimTemplates")) {
    return std::nullopt;
  }
  const auto& claims = sts.at("spec").at("volumeClaimTemplates").as_array();
  if (claims.size() == 0) return std::nullopt;
  const value& spec = claims.at(0).at("spec");
  AppliedStorage out;
  out.size = spec.at("resources").at("requests").at("storage").as_string();
  if (spec.has_string_field("storageClassName")) {
    out.storageClassName = spec.at("storageClassName").as_string();
  }
  return out;
}

std::string requested(const value& pvc) {
  const value& spec = pvc.at("spec");
  if (!spec.has_object_field("resources") || !spec.at("resources").has_object_field("requests") ||
      !spec.at("resources").at("requests").has_string_field("storage")) {
    return {};
  }
  return spec.at("resources").at("requests").at("storage").as_string();
}

bool smaller(const std::string& have, const std::string& want) {
  auto h = quantityBytes(have), w = quantityBytes(want);
  return !h || (w && *h < *w);
}

}  // namespace

std::optional<AppliedStorage> KubeBackend::appliedStorage(const std::vector<value>& sets) {
  for (const value& sts : sets) {
    if (auto storage = claimTemplateOf(sts)) return storage;
  }
  return std::nullopt;
}

void KubeBackend::expandVolumes(const ZkCluster& c, const ExpandVolumes& e,
                                const ZkClusterStatus& planned) {
  value claims =
      client_.list(resourcePath("v1", "PersistentVolumeClaim", c.meta.ns),
                   "app.kubernetes.io/name=zookube,app.kubernetes.io/instance=" + c.meta.name);
  int grown = 0;
  for (const value& pvc : claims.at("items").as_array()) {
    if (!smaller(requested(pvc), e.size)) continue;
    std::string name = pvc.at("metadata").at("name").as_string();
    value patch = value::object();
    patch["spec"]["resources"]["requests"]["storage"] = value::string(e.size);
    try {
      client_.mergePatch(resourcePath("v1", "PersistentVolumeClaim", c.meta.ns, name), patch);
    } catch (const ApiError& err) {
      if (err.status() >= 500) throw;  // the server's trouble, not a refusal: try again
      refuseExpansion(c, planned, "PersistentVolumeClaim " + name + ": " + firstLine(err.what()));
      throw;
    }
    ++grown;
  }
  for (const std::string& name : {voterSetName(c), observerSetName(c)}) {
    std::string path = resourcePath("apps/v1", "StatefulSet", c.meta.ns, name);
    auto sts = client_.getIfExists(path);
    auto storage = sts ? claimTemplateOf(*sts) : std::nullopt;
    // The API server stores a quantity in its canonical form (2048Mi reads back as 2Gi).
    if (!storage || quantityBytes(storage->size) == quantityBytes(e.size)) continue;
    client_.remove(path, "Orphan");
  }
  emitEvent(c, {false, "VolumesExpanded",
                "claims grown to " + e.size + " (" + std::to_string(grown) +
                    " patched this pass); StatefulSets re-created around their running pods"});
}

// The API server's refusal (a class without allowVolumeExpansion, a quota): Degraded with its
// message, which the planner keeps until the spec changes.
void KubeBackend::refuseExpansion(const ZkCluster& c, ZkClusterStatus status,
                                  const std::string& why) {
  status.phase = "Degraded";
  for (Condition& cond : status.conditions) {
    if (cond.type == "Degraded") {
      if (cond.status != "True") cond.lastTransitionTime.clear();
      cond.status = "True";
      cond.reason = kVolumeExpansionRefused;
      cond.message = "growing the volumes to " + c.spec.storage.size + " was refused (edit " +
                     "spec.storage to try again): " + why;
    } else if (cond.type == "Progressing") {
      if (cond.status != "False") cond.lastTransitionTime.clear();
      cond.status = "False";
      cond.reason = kVolumeExpansionRefused;
      cond.message = kNothingChanged;
    }
  }
  updateStatus(c, status);
  emitEvent(c, {true, kVolumeExpansionRefused,
                "growing the volumes to " + c.spec.storage.size + " was refused: " + why});
}

}  // namespace zk::op::kube

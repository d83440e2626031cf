#pragma once
// The Kubernetes backend: carries out the planner's actions with the API server and observes
// members from their pods plus `srvr` on each pod's client port.
//
// - ApplyObjects: server-side apply of every rendered object (Services, ConfigMap, StatefulSets
//   with updateStrategy OnDelete, PDB).
// - RestartMember: delete the pod; its StatefulSet recreates it from the current template.
// - ReconfigAdd / ReconfigRemove: not carried out yet; reported as a Warning Event, and the rest
//   of the plan waits.
// - UpdateStatus: server-side apply to the status subresource.
// - EmitEvent: a core/v1 Event on the ZkCluster.
//
// Without reconfig the ensemble's membership is what the rendered config lists: the voters last
// applied and the spec's observers.

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "backends/kube/srvr_client.h"
#include "kube/kube_client.h"
#include "model/zk_cluster.h"
#include "plan/plan.h"
#include "render/render.h"

namespace zk::op::kube {

// Where to send `srvr` for a member, given its pod (which may be null when absent). The default
// uses the pod's IP and the spec's client port; tests map pods to loopback ports.
using AddressResolver = std::function<std::optional<SrvrTarget>(const ZkCluster& c, const Member& m,
                                                                const web::json::value& pod)>;
AddressResolver podIpResolver();

using Clock = std::function<std::chrono::system_clock::time_point()>;

class KubeBackend {
 public:
  KubeBackend(
      KubeClient& client, AddressResolver resolver,
      std::chrono::milliseconds probeTimeout = std::chrono::milliseconds(1000),
      Clock now = [] { return std::chrono::system_clock::now(); });

  std::string targetHash(const ZkCluster& c) const;
  Observed observe(const ZkCluster& c);
  // Runs the actions in order; stops at a Wait, a reconfig or the first failure (returned).
  std::optional<std::string> execute(const ZkCluster& c, const Plan& plan);

 private:
  void applyObjects(const ZkCluster& c, Membership m);
  void restartMember(const ZkCluster& c, const RestartMember& r);
  void updateStatus(const ZkCluster& c, ZkClusterStatus status);
  void emitEvent(const ZkCluster& c, const EmitEvent& e);

  KubeClient& client_;
  AddressResolver resolver_;
  std::chrono::milliseconds probeTimeout_;
  Clock now_;
};

// The ZkCluster's status as a server-side apply body for the status subresource.
web::json::value statusApplyBody(const ZkCluster& c, const ZkClusterStatus& status);
// A core/v1 Event about the ZkCluster.
web::json::value eventObject(const ZkCluster& c, const EmitEvent& e, const std::string& time);
// The member a pod of this cluster stands for; nullopt for a pod that is not one.
std::optional<Member> memberOfPod(const ZkCluster& c, const std::string& podName);

}  // namespace zk::op::kube

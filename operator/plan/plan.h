#pragma once
// The reconcile's decision as a pure function: desired state + observed state -> actions.
//
// No clocks, no I/O, no memory between calls: everything the planner must remember (the roll's
// progress, the membership it last applied) is written into the resource's status by the first
// action of every plan, so an operator that restarts mid-roll picks up exactly where it stopped.
//
// A backend (Kubernetes or local processes) executes the actions in order and stops at the first
// that fails; the next pass plans again from what it then observes.

#include <cstdint>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "model/zk_cluster.h"
#include "plan/storage_change.h"
#include "render/render.h"
#include "render/tls_status.h"

namespace zk::op {

// One member as the backend sees it: Kubernetes from the pod and srvr, local from the process.
struct ObservedMember {
  Member member;
  bool exists = false;   // the pod or process exists (maybe not running)
  bool running = false;  // its server process is up
  bool ready = false;    // its readiness probe passes
  // A stop was ordered and has not finished (a pod with a deletionTimestamp): it still answers,
  // but counts as down, or a second restart could overlap it.
  bool terminating = false;
  MemberRole role = MemberRole::kUnknown;  // srvr's Mode
  std::int64_t zxid = 0;                   // srvr's Zxid
  std::string rolloutHash;  // the hash it was started with (pod annotation / process record)
  // How long its server process has been running (Kubernetes: the container's startedAt; local:
  // the process's start), when the backend knows: a member that was just started is joining,
  // not down, for a while (joinGraceSeconds).
  std::optional<std::int64_t> upSeconds;
  std::string image;
  // Why its server keeps failing, when it does (Kubernetes: CrashLoopBackOff with the last
  // termination message); empty otherwise.
  std::string crashLoop;
};

// How long a started member may take to join before not serving counts against the ensemble:
// one initLimit (tickTime x initLimit, from spec.config or ZooKeeper's defaults) to load its data
// and find the leader, one more for the sync the leader allows it.
std::int64_t joinGraceSeconds(const ZkCluster& c);

// What keeps the ensemble from converging that only the backend can see. Each cause becomes
// Degraded=True with its own reason and the API's or the member's message; adding a cause is one
// row in kBlockCauses.
enum class BlockCause {
  kInvalidConfig,
  kSecretMissing,
  kCertificateInvalid,
  kApplyRefused,
  kPodsNotCreated,
  kMemberCrashLooping
};
struct BlockCauseInfo {
  BlockCause cause;
  const char* reason;  // the Degraded condition's reason and the Warning Event's
  bool holdsApply;     // nothing can be applied while it stands: the plan only reports
};
// In order of precedence: the first cause observed is the one reported.
inline constexpr BlockCauseInfo kBlockCauses[] = {
    {BlockCause::kInvalidConfig, "InvalidConfig", true},
    {BlockCause::kSecretMissing, "SecretMissing", true},
    {BlockCause::kCertificateInvalid, "CertificateInvalid", true},
    {BlockCause::kApplyRefused, "ApplyRefused", true},
    {BlockCause::kPodsNotCreated, "PodsNotCreated", false},
    {BlockCause::kMemberCrashLooping, "MemberCrashLooping", false},
};
const BlockCauseInfo& infoOf(BlockCause cause);

struct Blocker {
  BlockCause cause;
  std::string message;  // one line (firstLine of what the API server or the member said)
  bool operator==(const Blocker&) const = default;
};

// What a backend ran into that keeps the cluster from converging: reported in its status and
// Events (the Blocker) instead of only failing the pass.
class Blocked : public std::runtime_error {
 public:
  explicit Blocked(Blocker b) : std::runtime_error(b.message), blocker_(std::move(b)) {}
  const Blocker& blocker() const { return blocker_; }

 private:
  Blocker blocker_;
};

// The first line of a message, trimmed, at most 512 characters: the API server's 422s carry a
// multi-line Go diff, which belongs in no condition or Event.
std::string firstLine(std::string_view text);

// The ensemble's current dynamic membership, as the leader reports it (the /zookeeper/config
// znode); unknown while there is no leader.
struct EnsembleView {
  std::set<int> voters;
  std::set<int> observers;
};

struct Observed {
  std::vector<ObservedMember> members;
  std::optional<EnsembleView> ensemble;
  // Kubernetes: the volumes the StatefulSets make; nothing where there are none (local mode, or
  // before the first apply).
  std::optional<AppliedStorage> storage;
  // Causes the backend saw; members' crash loops come in ObservedMember::crashLoop.
  std::vector<Blocker> blockers;
  // The members' certificates as the backend judged them (status.tls, TLSReady,
  // CertificatesExpiring); nothing while spec.tls is off.
  std::optional<TlsObservation> tls;
};

// Make the backend's objects match the rendering for this membership: in Kubernetes apply the
// Services, ConfigMap, StatefulSets (replicas = the counts) and PDB; locally write each member's
// files and start members that should run and do not. Idempotent.
struct ApplyObjects {
  Membership membership;
  bool operator==(const ApplyObjects&) const = default;
};
// Stop the member and start it again on the current rendering (Kubernetes: delete the pod).
struct RestartMember {
  Member member;
  std::string reason;
  bool operator==(const RestartMember&) const = default;
};
// `reconfig -add` the member's serverLine() through a client port, with the super credentials.
struct ReconfigAdd {
  Member member;
  bool operator==(const ReconfigAdd&) const = default;
};
// `reconfig -remove` the member's id.
struct ReconfigRemove {
  Member member;
  bool operator==(const ReconfigRemove&) const = default;
};
// Grow every member's volume to `size` (Kubernetes: patch each claim, then delete the
// StatefulSets without their pods so ApplyObjects makes them again with the new claim template).
struct ExpandVolumes {
  std::string size;
  bool operator==(const ExpandVolumes&) const = default;
};
// Nothing more can be done now; plan again soon (the reason is for logs).
struct Wait {
  std::string reason;
  bool operator==(const Wait&) const = default;
};
// Write the status subresource. Always the first action of a plan: intent is recorded before it
// is carried out.
struct UpdateStatus {
  ZkClusterStatus status;
  bool operator==(const UpdateStatus&) const = default;
};
struct EmitEvent {
  bool warning = false;
  std::string reason;
  std::string message;
  bool operator==(const EmitEvent&) const = default;
};

using Action = std::variant<UpdateStatus, ExpandVolumes, ApplyObjects, ReconfigAdd, ReconfigRemove,
                            RestartMember, Wait, EmitEvent>;

// The Degraded reason a backend reports when the API server refuses to grow a volume; the planner
// does not try again until the spec changes (a new generation).
inline constexpr const char* kVolumeExpansionRefused = "VolumeExpansionRefused";
// The Progressing message of a plan that only reports.
inline constexpr const char* kNothingChanged = "nothing running was changed";

struct Plan {
  std::vector<Action> actions;
  ZkClusterStatus status;  // the same status UpdateStatus writes
};

// `c` carries the spec, metadata.generation and the status as last stored; `targetHash` is
// rolloutHash(c, addressing) for the backend's addressing.
Plan plan(const ZkCluster& c, const std::string& targetHash, const Observed& observed);

// A spec that failed validation: report it and touch nothing that runs. `previous` is the stored
// status, `generation` the resource's metadata.generation.
Plan planInvalid(const ZkClusterStatus& previous, std::int64_t generation,
                 const std::vector<std::string>& errors);

std::string describe(const Action& a);  // one line, for logs and test failures

}  // namespace zk::op

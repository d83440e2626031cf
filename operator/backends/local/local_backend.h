#pragma once
// Local mode's backend: carries out the planner's actions on zookube-server processes on this
// machine and observes them, so the same plan that drives StatefulSets drives local processes.
//
// Layout under the state directory:
//   status.json                     the planner's memory (see state_store.h)
//   members/<name>/zoo.cfg, data/myid, data/...   rendered with render's local Addressing
//   members/<name>/server.log       the member's stdout and stderr
//   members/<name>/process.json     pid and the rollout hash the running process was started with
//   members/<name>/starts.log       one line per start, for people and tests
//
// Without reconfig in the server, two things differ from Kubernetes:
// - The number of voters cannot change once the ensemble exists; the operator refuses it before
//   planning (see voterChangeError).
// - Voters refuse peers their config does not list, so a new observer can join only after the
//   voters were restarted on a config that lists it. The rollout hash local mode plans with
//   therefore covers "knows at least spec.observers observers" (see targetHash): scaling observers
//   up rolls the ensemble through the planner's quorum-safe order, scaling down does not.
//   ReconfigAdd/ReconfigRemove of an observer record it as joined or gone.

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "backends/local/process.h"
#include "backends/local/state_store.h"
#include "model/zk_cluster.h"
#include "plan/plan.h"
#include "render/render.h"

namespace zk::op::local {

struct LocalOptions {
  std::filesystem::path stateDir;  // made absolute: it ends up in every zoo.cfg
  std::string serverBinary;
  std::chrono::milliseconds probeTimeout{500};
  std::chrono::milliseconds stopGrace{15000};
};

// Human-readable progress lines ("member demo-1 (follower): restarting for config change").
using ProgressLog = std::function<void(const std::string&)>;

// What local mode records about the process it started for a member.
struct ProcessRecord {
  int pid = 0;             // 0: a start was under way when the operator stopped
  std::string settings;    // rolloutHash() of the rendering it was started on
  int observersKnown = 0;  // observers its zoo.cfg listed
  std::string image;
  std::string started;  // RFC 3339
};

// Refuses a change of the voter count of an existing ensemble, naming the field.
std::optional<std::string> voterChangeError(const ZkCluster& c, const LocalState& state);

class LocalBackend {
 public:
  // Takes the state directory's lock: throws std::runtime_error if another operator holds it.
  LocalBackend(LocalOptions options, ProgressLog log);

  const LocalState& state() const { return state_; }
  LocalState& state() { return state_; }
  void saveState();
  const Addressing& addressing() const { return addressing_; }

  std::string targetHash(const ZkCluster& c) const;
  Observed observe(const ZkCluster& c);
  const Observed& lastObserved() const { return observed_; }

  // Runs the actions in order and stops at the first that fails, returning its error.
  std::optional<std::string> execute(const ZkCluster& c, const Plan& plan);

  // Stops every member process found under the state directory; data stays.
  void stopAll();

  // {"connect", "operator_metrics", "members": [{"id", "name", "role", "client", "metrics"}]}
  std::string ensembleJson(const ZkCluster& c, const std::string& operatorMetrics) const;

  // Restarts issued by this process and not yet reported back in sync.
  int restartsInFlight() const { return static_cast<int>(restartedAt_.size()); }

 private:
  std::filesystem::path memberDir(const Member& m) const;
  std::filesystem::path configPath(const Member& m) const;
  void writeMemberFiles(const ZkCluster& c, const Member& m, Membership membership);
  void start(const ZkCluster& c, const Member& m, const std::string& why);
  void stop(const Member& m, const std::string& why);
  void applyObjects(const ZkCluster& c, Membership membership);
  void restartMember(const ZkCluster& c, const RestartMember& r);
  void updateStatus(ZkClusterStatus status);
  void reportEvent(const EmitEvent& e);
  std::vector<Member> membersOnDisk(const ZkCluster& c) const;
  const ObservedMember* lastSeen(const std::string& name) const;

  LocalOptions options_;
  ProgressLog log_;
  UniqueFd lock_;  // flock on <state-dir>/operator.lock, released even by kill -9
  Addressing addressing_;
  std::filesystem::path statusFile_;
  LocalState state_;
  Observed observed_;
  std::map<std::string, int> pids_;  // member name -> pid found by the last observe()
  std::set<std::string> startedThisPass_;
  std::set<std::string> lastWaits_, waits_;
  std::map<std::string, std::chrono::steady_clock::time_point> restartedAt_, lastStart_;
};

}  // namespace zk::op::local

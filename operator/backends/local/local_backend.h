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
//   super.secret                    the super user's password (0600), made once from /dev/urandom
//   secrets/<name>/<key>            spec.auth.sasl's passwordSecretRefs, as a Secret volume lays
//                                   them out (the user writes them; one trailing newline dropped)
//   members/<name>/jaas.conf        the JAAS file rendered from them (0600)
//   members/<name>/krb5.keytab      spec.auth.kerberos: the member's copy of the keytab (0600),
//                                   which its jaas.conf names with the member's principal
//   configmaps/<name>/<key>         spec.auth.kerberos.krb5ConfigRef, as a ConfigMap volume lays
//                                   it out (the user writes it)
//   members/<name>/krb5.conf        the member's copy of it, which its KRB5_CONFIG names
//   tls/                            spec.tls: the operator's CA, its rotation's state and the
//                                   operator's client certificate (local_tls.h)
//
// Membership changes go through the ensemble, not through restarts: members run with
// reconfigEnabled=true and the super user's digest, and ReconfigAdd/ReconfigRemove are
// `reconfig` calls through a serving member (members/zk_admin.h). The membership the planner sees
// is /zookeeper/config as the ensemble publishes it. A member's zoo.cfg is written only when the
// member is started: the server rewrites its own after a reconfig, and the data holds the truth.

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "backends/local/process.h"
#include "backends/local/state_store.h"
#include "backends/members/sasl_relay.h"
#include "backends/members/secret_refs.h"
#include "backends/members/tls_relay.h"
#include "backends/members/zk_admin.h"
#include "model/zk_cluster.h"
#include "plan/plan.h"
#include "render/ca_rotation.h"
#include "render/client_access.h"
#include "render/render.h"

namespace zk::op::local {

struct LocalOptions {
  std::filesystem::path stateDir;  // made absolute: it ends up in every zoo.cfg
  std::string serverBinary;
  std::chrono::milliseconds probeTimeout{500};
  std::chrono::milliseconds stopGrace{15000};
  std::chrono::milliseconds adminTimeout{5000};  // each call to the ensemble (read, reconfig)
};

// Human-readable progress lines ("member demo-1 (follower): restarting for config change").
using ProgressLog = std::function<void(const std::string&)>;

// What local mode records about the process it started for a member.
struct ProcessRecord {
  int pid = 0;           // 0: a start was under way when the operator stopped
  std::string settings;  // targetHash() of the rendering it was started on
  std::string image;
  std::string started;  // RFC 3339
  // What its client port runs (client_access.h's text): how the operator reaches it until it is
  // restarted, whatever the spec asks by then. Empty in records written before it existed.
  std::string access;
};

class LocalBackend {
 public:
  // Takes the state directory's lock: throws std::runtime_error if another operator holds it.
  LocalBackend(LocalOptions options, ProgressLog log);

  const LocalState& state() const { return state_; }
  LocalState& state() { return state_; }
  void saveState();
  const Addressing& addressing() const { return addressing_; }

  // rolloutHash() plus what only local mode adds to every zoo.cfg (the super digest), so members
  // started before those settings existed are rolled onto them once.
  std::string targetHash(const ZkCluster& c) const;
  // Observed::blockers carries a spec.auth.sasl password file that is missing or empty
  // (SecretMissing, as Kubernetes mode reports a missing Secret: backends/members/secret_refs.h).
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
  // Members started again since the last call because their process had died (not rolls,
  // not new members): for the restart metric, so a member in a crash loop shows.
  std::vector<std::string> takeRecovered() { return std::exchange(recovered_, {}); }

 private:
  std::filesystem::path memberDir(const Member& m) const;
  std::filesystem::path configPath(const Member& m) const;
  void writeMemberFiles(const ZkCluster& c, const Member& m);
  void start(const ZkCluster& c, const Member& m, const std::string& why);
  std::optional<EnsembleView> readMembership(const ZkCluster& c, const Observed& o);
  zkadmin::ZkAdmin& admin(const ZkCluster& c);
  // What `m`'s process runs on its client port: its record's, else the spec's (client_access.h).
  ClientAccess accessOf(const ZkCluster& c, const Member& m) const;
  // Where the operator's srvr and reconfig connections reach `m`: its client port, or when it
  // runs tls.client on (accessOf) a loopback relay to its secure port (members/tls_relay.h).
  std::pair<std::string, int> operatorAddress(const ZkCluster& c, const Member& m);
  bool listed(const Member& m) const;
  std::string serverLines(const ZkCluster& c, const Member& self) const;  // needs config_
  void reconfigAdd(const ZkCluster& c, const Member& m);
  void reconfigRemove(const ZkCluster& c, const Member& m);
  void stop(const Member& m, const std::string& why);
  StopOutcome stopPid(pid_t pid);
  void reapExitedChildren();
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
  std::string superPassword_, localSettings_;
  std::optional<zkadmin::ZkAdmin> admin_;
  struct OperatorRelay {
    std::unique_ptr<relay::TlsRelay> relay;
    std::string certPem;  // the operator's certificate it presents
  };
  std::map<std::string, OperatorRelay> relays_;  // by member name
  // The operator's CA state as this pass left it (local_tls.h), with spec.tls from the operator.
  std::optional<CaBundle> ca_;
  // Makes the CA or moves its rotation on, reporting the step's Event.
  const CaBundle& refreshCa(const ZkCluster& c);
  // With TLS off for good (tls_cleanup.h: no running member's zoo.cfg names its TLS files), the
  // CA's directory and every member's TLS directory go, each with an ObjectDeleted line.
  void removeTlsLeftovers(const ZkCluster& c);
  // The member's trust store and keystore (local_tls.h); nothing without spec.tls.
  void writeMemberTls(const ZkCluster& c, const Member& m);
  // Members that enforce SASL: the operator's sessions authenticate through these, by
  // "host:port".
  std::map<std::string, std::unique_ptr<relay::SaslRelay>> saslRelays_;
  // Reads <state-dir>/secrets/<name>/<key>; `text` drops one trailing newline.
  SecretReader secretFiles(bool text) const;
  // The JAAS file for spec.auth.sasl (empty without it); throws Blocked (SecretMissing) naming a
  // missing password file's Secret, user and key.
  std::string localJaas(const ZkCluster& c) const;
  // spec.auth.kerberos's keytab (empty without it); throws Blocked (SecretMissing) likewise.
  std::string localKeytab(const ZkCluster& c) const;
  // Reads <state-dir>/configmaps/<name>/<key>, as it is.
  ConfigMapReader configMapFiles() const;
  // spec.auth.kerberos.krb5ConfigRef's krb5.conf (empty without it); throws Blocked likewise.
  std::string localKrb5Config(const ZkCluster& c) const;
  std::optional<Blocker> secretBlocker(const ZkCluster& c) const;
  // status.tls and its conditions from the applied members' keystores and the CA, as Kubernetes
  // mode judges its Secrets (render/tls_status.h); nothing without spec.tls or members.
  std::optional<TlsObservation> tlsObservation(const ZkCluster& c) const;
  // The newest membership seen, by version: a reconfig's own answer can be newer than what a
  // lagging member then serves, and must not be asked for twice.
  std::optional<zkadmin::EnsembleConfig> config_;
  std::string adminError_;  // the last failure to read the membership, said once
  Membership membership_;   // of the last ApplyObjects: what a member started now is told
  Observed observed_;
  std::map<std::string, int> pids_;  // member name -> pid found by the last observe()
  // member name -> what its process was started with, from its record (observe, start)
  std::map<std::string, ClientAccess> access_;
  // Processes this run started and has not yet waited for, pid -> member name: each one is
  // collected when it ends (stopped, or on its own), so none is left a zombie.
  std::map<pid_t, std::string> children_;
  std::set<std::string> startedThisPass_;
  std::vector<std::string> recovered_;
  std::set<std::string> lastWaits_, waits_;
  std::map<std::string, std::chrono::steady_clock::time_point> restartedAt_, lastStart_;
};

}  // namespace zk::op::local

#pragma once
// The Kubernetes backend: carries out the planner's actions with the API server and observes
// members from their pods plus `srvr` on each pod's client port.
//
// - ApplyObjects: server-side apply of the super digest Secret and every rendered object
//   (Services, ConfigMap, StatefulSets with updateStrategy OnDelete, PDB).
// - ExpandVolumes: patch every claim to the new size, then delete the StatefulSets with
//   propagationPolicy=Orphan so the next ApplyObjects makes them again (kube_volumes.cpp).
// - RestartMember: delete the pod; its StatefulSet recreates it from the current template.
// - ReconfigAdd / ReconfigRemove: reconfig through a voter's client port as the super user, over
//   ZooKeeper's C client (through a member that enforces SASL, logged in with SASL first by a
//   relay, sasl_relay.h); a failure is a Warning Event and fails the pass.
// - UpdateStatus: server-side apply to the status subresource.
// - EmitEvent: a core/v1 Event on the ZkCluster, its message's first line; a repeat counts up.
//
// Every connection to a member (srvr, conf, reconfig) is made the way that member runs, from its
// pod's kClientAccessAnnotation (client_access.h), not the way the spec now asks: mid-roll the
// members not yet restarted keep the old tls.client and auth.enforce.
//
// What keeps a cluster from converging (a refused apply, a missing Secret, pods the StatefulSet
// controller cannot create, a crash-looping member) is observed here and handed to the planner
// as a Blocker, which reports it (plan.h).
//
// The ensemble's membership is what the leader's `conf` lists (the configuration it runs), so a
// member that a reconfig has not added yet, or one it removed, is seen as such. The super user's
// password comes from spec.superUserSecret, or from a Secret the operator creates once; its
// digest is part of the rollout hash, so a new password restarts the members (in the roll's
// quorum-safe order), each of which reads the digest only when it starts.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <vector>

#include "backends/kube/srvr_client.h"
#include "backends/members/tls_relay.h"
#include "kube/kube_client.h"
#include "model/zk_cluster.h"
#include "plan/plan.h"
#include "render/ca_rotation.h"
#include "render/certificates.h"
#include "render/client_access.h"
#include "render/render.h"

namespace zk::op::kube {

// Where to send `srvr` for a member, given its pod (which may be null when absent). The default
// uses the pod's IP and the spec's client port; tests map pods to loopback ports.
using AddressResolver = std::function<std::optional<SrvrTarget>(const ZkCluster& c, const Member& m,
                                                                const web::json::value& pod)>;
AddressResolver podIpResolver();
// What the pod's member runs on its client port (its kClientAccessAnnotation); what the spec
// asks for a pod without one.
ClientAccess clientAccessOfPod(const ZkCluster& c, const web::json::value& pod);

using Clock = std::function<std::chrono::system_clock::time_point()>;

// The action that failed, and what it ran into when that is a cause to report.
struct ExecuteFailure {
  std::string message;
  std::optional<Blocker> blocker;
};

struct KubeBackendOptions {
  std::chrono::milliseconds probeTimeout{1000};   // srvr and conf, all members at once
  std::chrono::milliseconds adminTimeout{10000};  // each reconfig
  // Where the ConfigMap places members; tests run real members on loopback with local addressing.
  Addressing addressing = Addressing::kubernetes();
  // For stand-in members that answer only srvr: the membership is taken to be what the status
  // last applied, as if every member joined by its static config. Never in a cluster.
  bool assumeAppliedMembership = false;
  Clock now = [] { return std::chrono::system_clock::now(); };
};

class KubeBackend {
 public:
  KubeBackend(KubeClient& client, AddressResolver resolver, KubeBackendOptions options = {});

  // The super user's password, from its Secret (made first when the spec names none), and its
  // "super:<base64 sha1>" digest. A pass reads them once and hands them to targetHash and
  // execute, so the hash, the rendered objects and a reconfig never see two passwords.
  // With spec.auth.sasl, the JAAS file too (from the users' Secrets, plus the operator's own
  // user with the super password), read in the same pass for the same reason; with
  // spec.auth.kerberos, the keytab and krb5ConfigRef's krb5.conf (the pods mount them; only
  // their hashes are used here).
  struct SuperUser {
    std::string password;
    std::string digest;
    std::string jaas;      // empty without spec.auth.sasl
    std::string keytab;    // empty without spec.auth.kerberos
    std::string krb5Conf;  // empty without spec.auth.kerberos.krb5ConfigRef
  };
  // Throws Blocked (SecretMissing) when spec.superUserSecret, a spec.auth.sasl user's
  // passwordSecretRef, spec.auth.kerberos's keytabSecretRef or krb5ConfigRef (a ConfigMap), or
  // their key does not exist.
  SuperUser superUser(const ZkCluster& c);
  // rolloutHash() with what the members' Secret holds (memberSecretsFingerprint).
  std::string targetHash(const ZkCluster& c, const SuperUser& super) const;
  Observed observe(const ZkCluster& c);
  // Runs the actions in order (a Wait changes nothing); stops at the first failure (returned),
  // or before the next action once `fence` is stopped (leadership lost).
  std::optional<ExecuteFailure> execute(const ZkCluster& c, const Plan& plan,
                                        const SuperUser& super, std::stop_token fence = {});
  // The status says the API server refused the last apply: apply again now, before planning, so
  // the plan knows whether it still does (nullopt: it no longer does, or never did).
  std::optional<Blocker> retryRefusedApply(const ZkCluster& c, const SuperUser& super);

 private:
  web::json::value listPods(const ZkCluster& c);
  // Where the operator sends srvr, conf and reconfig for member `m`: the resolver's address, or
  // when the pod runs tls.client on (clientAccessOfPod, whatever the spec now asks) a loopback
  // relay to it (tls_relay.h) presenting the operator's client certificate. nullopt while the
  // member has no address or there is no CA to trust yet.
  std::optional<SrvrTarget> operatorTarget(const ZkCluster& c, const Member& m,
                                           const web::json::value& pod);
  // The CA to trust and the operator's own client certificate, issued in memory from the
  // cluster's CA (its key never leaves the process) and reissued when the CA changes or it is
  // due; nullopt while the CA Secret does not exist.
  std::optional<relay::TlsClientFiles> operatorTlsFiles(const ZkCluster& c);
  std::optional<EnsembleView> readMembership(const ZkCluster& c, const Observed& o,
                                             const std::vector<SrvrTarget>& targets,
                                             const std::vector<size_t>& probed);
  std::string superPassword(const ZkCluster& c);
  // The password in the Secret `name` the cluster owns, made up and created when missing.
  std::string ownedPassword(const ZkCluster& c, const std::string& name);
  // The JAAS file for spec.auth.sasl: every user's password read from its Secret; and
  // spec.auth.quorum's DIGEST-MD5 sections (quorumDigestJaas).
  std::string saslJaas(const ZkCluster& c, const std::string& operatorPassword);
  // kube_volumes.cpp
  std::optional<AppliedStorage> appliedStorage(const std::vector<web::json::value>& sets);
  // The StatefulSets' FailedCreate, when they have fewer pods than they want.
  std::optional<Blocker> podsNotCreated(const ZkCluster& c,
                                        const std::vector<web::json::value>& sets,
                                        const Observed& o);
  void expandVolumes(const ZkCluster& c, const ExpandVolumes& e, const ZkClusterStatus& planned);
  void refuseExpansion(const ZkCluster& c, ZkClusterStatus status, const std::string& why);
  void applyObjects(const ZkCluster& c, Membership m, const SuperUser& super);
  // Deletes the objects of `kind` the cluster owns (ownerReference) that `wanted` does not name
  // (render's unwantedOwned), with an Event saying `why`; none when the kind is not served.
  void deleteUnwanted(const ZkCluster& c, const std::string& apiVersion, const std::string& kind,
                      const std::vector<web::json::value>& wanted, const std::string& why);
  // Server-side apply; a refusal throws Blocked (ApplyRefused).
  void applyOrBlock(const web::json::value& object);
  // spec.tls with issuer operator: the CA Secret (made once unless tls.caSecretRef names one)
  // and the members' keystores Secret, rewritten only when a certificate is due. Throws Blocked
  // (SecretMissing) when a named CA Secret is missing or has no tls.crt/tls.key, and
  // (CertificateInvalid) when its CA cannot issue.
  void applyTlsSecrets(const ZkCluster& c, Membership m);
  // With TLS off for good (tls_cleanup.h: no pod nor pod template mounts the members' Secret),
  // the Secrets made for it are deleted, each with an ObjectDeleted Event.
  void deleteTlsLeftovers(const ZkCluster& c);
  // The operator's CA Secret (made once, or copied from tls.caSecretRef's), moved on to the next
  // step of a rotation when one is due or the user's CA changed (render/ca_rotation.h), with an
  // Event saying which step.
  CaBundle clusterCa(const ZkCluster& c);
  // spec.tls.secretRef or issuerRef: every member's certificate from the user's Secret(s) or
  // cert-manager's (one per Certificate), checked (certificateProblem). Throws Blocked:
  // SecretMissing, or CertificateInvalid naming the Secret, the member and what is wrong.
  std::map<std::string, ProvidedCertificate> providedCertificates(const ZkCluster& c,
                                                                  const std::vector<Member>& ms);
  // The keystores Secret's files made from them: ca.crt and <member>.pem (key, then certificate).
  static StringMap keystoresOf(const std::vector<Member>& ms,
                               const std::map<std::string, ProvidedCertificate>& given);
  // The members' certificates as the Secrets hold them now (tls_status.h); nothing while TLS is
  // off or before the first members were applied.
  std::optional<TlsObservation> tlsObservation(const ZkCluster& c);
  // The Event a rewrite of the members' Secret deserves: what was issued or renewed, and when
  // the next renewal is due.
  void reportIssued(const ZkCluster& c, const StringMap& before, const StringMap& after);
  void reconfig(const ZkCluster& c, const Member& m, bool add, const std::string& password);
  void restartMember(const ZkCluster& c, const RestartMember& r);
  void updateStatus(const ZkCluster& c, ZkClusterStatus status);
  void emitEvent(const ZkCluster& c, const EmitEvent& e);

  KubeClient& client_;
  AddressResolver resolver_;
  KubeBackendOptions options_;
  // Workers reconcile different clusters at once; the relays and certificates are shared.
  struct Relay {
    std::string certPem;  // the client certificate it presents
    std::unique_ptr<relay::TlsRelay> relay;
  };
  std::mutex tlsMutex_;
  std::map<std::string, Relay> relays_;                                // by "<ns>/<member>"
  std::map<std::string, relay::TlsClientFiles> operatorCertificates_;  // by "<ns>/<cluster>"
};

// The ZkCluster's status as a server-side apply body for the status subresource.
web::json::value statusApplyBody(const ZkCluster& c, const ZkClusterStatus& status);
// A core/v1 Event about the ZkCluster.
web::json::value eventObject(const ZkCluster& c, const EmitEvent& e, const std::string& time);
// The membership in a `conf` answer (its server.N lines); nullopt if it lists no server.
std::optional<EnsembleView> membershipFromConf(std::string_view text);
// The member a pod of this cluster stands for; nullopt for a pod that is not one.
std::optional<Member> memberOfPod(const ZkCluster& c, const std::string& podName);

}  // namespace zk::op::kube

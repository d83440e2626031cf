#pragma once
// Pure rendering: ZkCluster -> members, zoo.cfg text, myid, and the Kubernetes objects.
//
// Member identity is stable per ordinal: voter N (pod <name>-N) has myid N+1 (1..7); observer N
// (pod <name>-observer-N) has myid 101+N, so scaling voters never renumbers an observer.
//
// The ensemble's membership (server.N lines) is a parameter, not read from spec: voters join and
// leave one at a time through reconfig, so the planner decides how many are rendered at each step.
// Membership is left out of the rollout hash for the same reason: a scale must not restart anyone.

#include <cpprest/json.h>

#include <string>
#include <string_view>
#include <vector>

#include "model/zk_cluster.h"

namespace zk::op {

constexpr int kMaxVoters = 7;
constexpr int kObserverIdBase = 101;

struct Member {
  std::string name;  // pod name in Kubernetes, process name locally
  int ordinal = 0;
  int id = 0;  // myid
  bool voter = true;
  bool operator==(const Member&) const = default;
};

// How many voters and observers a rendered config lists.
struct Membership {
  int voters = 0;
  int observers = 0;
  bool operator==(const Membership&) const = default;
};

Membership desiredMembership(const ZkCluster& c);
Member voterMember(const ZkCluster& c, int ordinal);
Member observerMember(const ZkCluster& c, int ordinal);
std::vector<Member> members(const ZkCluster& c, Membership m);  // voters by ordinal, then observers

// Where members listen. Kubernetes: one host per pod (the headless Service's DNS name), the spec's
// ports everywhere. Local: every member on one loopback host, ports shifted by a per-member offset
// (voter ordinal, or kMaxVoters + observer ordinal) so members never collide and never move.
struct Addressing {
  enum class Mode { kKubernetes, kLocal };
  Mode mode = Mode::kKubernetes;
  std::string clusterDomain = "cluster.local";
  std::string localHost = "127.0.0.1";
  std::string localStateDir = "/var/lib/zookube";  // local data dirs: <dir>/<member>/data

  // Kubernetes objects for members on loopback (zookube-kube-selftest --local-addressing, whose
  // pods tests/kube/kubelet.py runs): local hosts and ports, but every path a container reads is
  // the pod's own (/data, the Secret mounts) under <localStateDir>/<member>/root, where the
  // kubelet stand-in lays out the pod's volumes at their mountPaths.
  bool podRoots = false;

  static Addressing kubernetes() { return {}; }
  static Addressing local(std::string stateDir) {
    return {Mode::kLocal, "cluster.local", "127.0.0.1", std::move(stateDir)};
  }
  static Addressing loopbackPods(std::string stateDir) {
    Addressing a = local(std::move(stateDir));
    a.podRoots = true;
    return a;
  }
};

struct Endpoint {
  std::string host;
  Ports ports;
};
Endpoint endpointOf(const ZkCluster& c, const Member& m, const Addressing& a);
std::string dataDirOf(const ZkCluster& c, const Member& m, const Addressing& a);

// Where a member's certificate files are: its keystore <member>.pem (key, then certificate) and
// ca.crt. Kubernetes: the TLS Secret's mount; local: <stateDir>/<member>/tls.
inline constexpr const char* kTlsMountPath = "/etc/zookube/tls";
// The zoo.cfg a member's container puts together at start (on its data volume) and runs.
inline constexpr std::string_view kMemberZooCfg = "/data/zoo.cfg";
std::string tlsDirOf(const ZkCluster& c, const Member& m, const Addressing& a);
// spec.auth.sasl: the JAAS file a member reads its SASL users from. Kubernetes: in the members'
// Secret's mount (superDigestSecret); local: <stateDir>/<member>/jaas.conf.
inline constexpr const char* kJaasMountDir = "/etc/zookube-super";
inline constexpr const char* kJaasMountFile = "/etc/zookube-super/jaas.conf";
// With spec.auth.kerberos a member's file is <member>.jaas.conf there (its own principal).
std::string jaasFileOf(const ZkCluster& c, const Member& m, const Addressing& a);

// spec.auth.kerberos (needs it set): the keytab's path (Kubernetes: the keytab Secret's key
// mounted at kKeytabMountDir; local: the copy the backend writes beside the member's JAAS file,
// <stateDir>/<member>/krb5.keytab, from <state-dir>/secrets/<name>/<key>), the member's principal
// (the pattern's {host} replaced by the host it listens on), and its JAAS file: a Server section
// with Krb5LoginModule, which makes the server accept GSSAPI (docs/security.md).
inline constexpr const char* kKeytabMountDir = "/etc/zookube-keytab";
// Where a pod's Kerberos replay cache goes (KRB5RCACHEDIR): the data volume, as the root
// filesystem is read-only.
inline constexpr std::string_view kKerberosReplayCacheDir = "/data";
std::string keytabFileOf(const ZkCluster& c, const Member& m, const Addressing& a);
// spec.auth.kerberos.krb5ConfigRef: the krb5.conf a member's KRB5_CONFIG names (Kubernetes: the
// ConfigMap's key mounted at kKrb5ConfigMountDir; local: the copy the backend writes,
// <stateDir>/<member>/krb5.conf, from <state-dir>/configmaps/<name>/<key>). "" without it.
inline constexpr const char* kKrb5ConfigMountDir = "/etc/zookube-krb5";
std::string krb5ConfigFileOf(const ZkCluster& c, const Member& m, const Addressing& a);
std::string kerberosPrincipalOf(const ZkCluster& c, const Member& m, const Addressing& a);
// With spec.auth.quorum rendered at a stage other than Off it has QuorumServer and QuorumLearner
// sections too, with the same key and principal.
std::string renderKerberosJaas(const ZkCluster& c, const Member& m, const Addressing& a);

// A SASL DIGEST-MD5 user and the password its Secret holds.
struct SaslCredential {
  std::string user;
  std::string password;
};
// The JAAS file's text: a Server section with DigestLoginModule and user_<name>="<password>" for
// each (quotes and backslashes escaped), the operator's own user among them.
std::string renderJaas(const std::vector<SaslCredential>& users);
// Whether members authenticate each other with DIGEST-MD5: quorum SASL rendered at a stage other
// than Off, without spec.auth.kerberos (whose members log in with their own principals).
bool rendersQuorumDigest(const ZkCluster& c);
// spec.auth.quorum with DIGEST-MD5: the QuorumServer section (user_<kQuorumSaslUser>) and the
// QuorumLearner section (its username and password) every member's JAAS file adds.
std::string renderQuorumDigestJaas(std::string_view password);
// Whether members read a JAAS file: client SASL (spec.auth.sasl or kerberos), or quorum SASL
// rendered at a stage other than Off.
bool membersReadJaas(const ZkCluster& c);
// What of the members' Secrets goes into the rollout hash: the super digest, the JAAS text when
// there is one (so a changed password rolls the members, each of which reads the file only when
// it starts), and spec.auth.kerberos's keytab's and krb5.conf's SHA-256 (a new one rolls them
// likewise; the per-member JAAS files follow from the spec). Equal to `superDigest` without
// JAAS, keytab or krb5.conf.
std::string memberSecretsFingerprint(std::string_view superDigest, std::string_view jaas,
                                     std::string_view keytab = {}, std::string_view krb5Conf = {});
// Lowercase hex of `text`'s SHA-256, its first `chars` digits.
std::string sha256Hex(std::string_view text, size_t chars = 64);

// Whether members listen for plaintext clients (tls.client off or both); with `on` only the
// secureClientPort is rendered.
bool hasPlainClientPort(const ZkCluster& c);

// The stage of quorum TLS the members are rendered at: where the spec goes before anything was
// applied (a new ensemble starts there), else what the status records, which the planner moves
// one step at a time (plan/quorum_tls_migration.h).
QuorumTlsStage renderedQuorumTlsStage(const ZkCluster& c);
// Likewise for quorum SASL (plan/quorum_sasl_migration.h).
QuorumSaslStage renderedQuorumSaslStage(const ZkCluster& c);

// "server.N=host:quorum:election:participant|observer;clientPort" — also the reconfig -add form.
std::string serverLine(const ZkCluster& c, const Member& m, const Addressing& a);

// The whole zoo.cfg of member `self`, listing `m`'s members.
std::string renderZooCfg(const ZkCluster& c, const Member& self, Membership m, const Addressing& a);
std::string renderMyid(const Member& self);

// A digest of everything whose change needs a restart to take effect: the settings shared by every
// member's zoo.cfg (not the membership), the image, and in Kubernetes the pod template's inputs
// and `superDigest`, the super user's digest that each pod appends to its zoo.cfg when it starts
// (so a new password in the user's Secret rolls the members onto it). Only the digest's hash
// reaches the annotation.
std::string rolloutHash(const ZkCluster& c, const Addressing& a, std::string_view superDigest = {});

// Kubernetes names and labels.
std::string headlessServiceName(const ZkCluster& c);
std::string clientServiceName(const ZkCluster& c);
std::string configMapName(const ZkCluster& c);
std::string voterSetName(const ZkCluster& c);
std::string observerSetName(const ZkCluster& c);
std::string pdbName(const ZkCluster& c);
std::string networkPolicyName(const ZkCluster& c);  // spec.networkPolicy.enabled
std::string selectorLabels(const ZkCluster& c);     // "k=v,k=v" for the scale subresource

inline constexpr const char* kRolloutHashAnnotation = "zookube.dev/rollout-hash";
inline constexpr const char* kFieldManager = "zookube-operator";

// The Secret the pods read the super user's digest from, and the one holding a password the
// operator made up when spec.superUserSecret names none.
std::string superDigestSecretName(const ZkCluster& c);
std::string generatedSuperSecretName(const ZkCluster& c);
// The Secret holding the quorum's DIGEST-MD5 password the operator made up when
// spec.auth.quorum.passwordSecretRef names none: <name>-quorum-auth, key password.
std::string quorumSecretName(const ZkCluster& c);

// Headless Service, client Service, ConfigMap, voter and observer StatefulSets and the voters'
// PodDisruptionBudget (and the NetworkPolicy when spec.networkPolicy.enabled), each owned by the
// ZkCluster; in the order they should be applied.
// `a` places the members in the ConfigMap (tests run real members on loopback with local
// addressing); the pod template is the same either way.
// `superDigest` goes into the StatefulSets' rollout hash (see rolloutHash).
std::vector<web::json::value> renderObjects(const ZkCluster& c, Membership m,
                                            const Addressing& a = Addressing::kubernetes(),
                                            std::string_view superDigest = {});

// spec.tls.issuerRef: member `m`'s cert-manager Certificate (cert-manager.io/v1), owned by the
// ZkCluster: the names memberDnsNames gives, 127.0.0.1 and ::1, server and client auth, an ECDSA
// P-256 key rotated on every renewal, spec.tls.duration and renewBefore. cert-manager writes its
// Secret (tls.crt, tls.key, ca.crt) under the same name.
web::json::value memberCertificate(const ZkCluster& c, const Member& m,
                                   std::string_view clusterDomain);
std::string memberCertificateName(const Member& m);  // "<member>-tls"

// The names of `found` (a List's items, of one kind) that `c` owns as their controller (its
// ownerReference's uid) and that no object of `wanted` names: what the operator made and no
// longer renders (the NetworkPolicy once turned off, a removed member's Certificate), to delete.
// Objects someone else made, or another cluster owns, are never among them.
std::vector<std::string> unwantedOwned(const ZkCluster& c, const web::json::value& found,
                                       const std::vector<web::json::value>& wanted);
// The label selector that lists every object of `c` ("app.kubernetes.io/name=...,instance=...").
std::string clusterLabelSelector(const ZkCluster& c);

// The super digest Secret's object: one file, "DigestAuthenticationProvider.superDigest=<digest>",
// that each pod appends to its zoo.cfg. `digest` is "super:<base64 sha1>". With spec.auth.sasl it
// holds the JAAS file too (jaas.conf, renderJaas), so no password reaches the ConfigMap; with
// spec.auth.kerberos, each of `m`'s members' own (<member>.jaas.conf, renderKerberosJaas with `a`).
web::json::value superDigestSecret(const ZkCluster& c, const std::string& digest,
                                   const std::string& jaas = {}, Membership m = {},
                                   const Addressing& a = Addressing::kubernetes());

}  // namespace zk::op

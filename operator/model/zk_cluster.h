#pragma once
// The ZkCluster resource as plain values. Parsing applies the same defaults and validation
// rules as the CRD's OpenAPI schema (crds/zkclusters.zookube.dev.yaml), so local mode refuses
// what the API server would refuse.

#include <cpprest/json.h>

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace zk::op {

using StringMap = std::map<std::string, std::string>;

// Every problem found in a manifest, each naming its field path ("spec.voters: must be odd, got
// 4").
class SpecError : public std::runtime_error {
 public:
  explicit SpecError(std::vector<std::string> errors);
  const std::vector<std::string>& errors() const { return errors_; }

 private:
  std::vector<std::string> errors_;
};

enum class ReclaimPolicy { kRetain, kDelete };

struct Ports {
  int client = 2181;
  int quorum = 2888;
  int election = 3888;
  int metrics = 7000;
  int admin = 8080;
  int secureClient = 2281;  // rendered only when spec.tls.client is on
  bool operator==(const Ports&) const = default;
};

struct Storage {
  std::string size = "10Gi";
  std::optional<std::string> storageClassName;
  ReclaimPolicy reclaimPolicy = ReclaimPolicy::kRetain;
};

// Pod-level settings copied into the pod templates. The Kubernetes-typed ones stay JSON: the
// operator passes them through and the API server validates them.
struct PodSettings {
  StringMap labels;
  StringMap annotations;
  std::optional<web::json::value> affinity;  // unset: spread voters across nodes
  std::optional<web::json::value> tolerations;
  StringMap nodeSelector;
  std::optional<std::string> priorityClassName;
  std::optional<web::json::value> securityContext;
};

struct SecretKeyRef {
  std::string name;
  std::string key = "password";
  bool operator==(const SecretKeyRef&) const = default;
};

// spec.auth: SASL on the client port. DIGEST-MD5 users whose passwords come from Secrets make up
// the JAAS Server section the operator renders into a Secret of its own and mounts; the operator
// adds its own user (kOperatorSaslUser, the super user's password) for its reconfig. With
// `enforce`, sessions that did not authenticate with SASL are refused (enforce.auth.schemes=sasl).
struct SaslUser {
  std::string name;
  SecretKeyRef passwordSecretRef;
  bool operator==(const SaslUser&) const = default;
};
inline constexpr const char* kOperatorSaslUser = "zookube-operator";
// spec.auth.kerberos: GSSAPI on the client port instead of DIGEST-MD5 (a JAAS Server section
// names one mechanism, so it excludes spec.auth.sasl). Each member logs in as `principal` with
// {host} replaced by its DNS name, from the keytab in the Secret (one keytab, every member's key).
inline constexpr const char* kKerberosHostPlaceholder = "{host}";
// A {name, key} reference to a ConfigMap's key (same shape and rules as a Secret's).
using ConfigMapKeyRef = SecretKeyRef;
inline constexpr const char* kKrb5ConfigKey = "krb5.conf";
struct KerberosSpec {
  SecretKeyRef keytabSecretRef{"", "keytab"};
  // kerberos.krb5ConfigRef: the krb5.conf (realm, KDCs) the members' Kerberos library reads
  // (KRB5_CONFIG); without it, the image's own /etc/krb5.conf.
  std::optional<ConfigMapKeyRef> krb5ConfigRef;
  std::string principal;                 // "service/{host}@REALM"
  bool removeHostFromPrincipal = true;   // kerberos.removeHostFromPrincipal: ids without host
  bool removeRealmFromPrincipal = true;  // kerberos.removeRealmFromPrincipal: ... and realm
  bool operator==(const KerberosSpec&) const = default;
};
// spec.auth.quorum: SASL between members (quorum.auth.*), reached on a running ensemble through
// ZooKeeper's three rolling steps (QuorumSaslStage). DIGEST-MD5 as kQuorumSaslUser with the
// password in passwordSecretRef (default: a Secret the operator makes, quorumSecretName), or with
// spec.auth.kerberos the members' own principals (GSSAPI).
inline constexpr const char* kQuorumSaslUser = "zookube-member";
struct QuorumAuthSpec {
  bool enabled = false;
  std::optional<SecretKeyRef> passwordSecretRef;
  bool operator==(const QuorumAuthSpec&) const = default;
};
struct AuthSpec {
  bool sasl = false;  // spec.auth.sasl is present
  std::vector<SaslUser> users;
  bool enforce = false;
  std::optional<KerberosSpec> kerberos;
  QuorumAuthSpec quorum;
  bool any() const { return sasl || kerberos.has_value(); }  // the members run a SASL provider
};

// spec.tls: TLS on the client port, and with `quorum` between members.
enum class ClientTls { kOff, kBoth, kOn };  // both: client.portUnification on clientPort
enum class ClientAuth { kNone, kWant, kNeed };
enum class CertificateSource { kOperator, kCertManager, kSecret };

struct IssuerRef {
  std::string name;
  std::string kind = "Issuer";  // or ClusterIssuer
  std::string group = "cert-manager.io";
};

struct TlsSpec {
  ClientTls client = ClientTls::kOff;
  ClientAuth clientAuth = ClientAuth::kNeed;  // ZooKeeper's default
  CertificateSource source = CertificateSource::kOperator;
  std::optional<std::string> caSecretName;  // issuer operator: a CA the user provides
  std::optional<IssuerRef> issuerRef;       // cert-manager
  std::optional<std::string> secretName;    // user-provided tls.crt/tls.key/ca.crt
  bool secretPerMember = false;             // secretName-<member> each, else one for all
  std::int64_t durationSeconds = 365LL * 24 * 3600;
  std::int64_t caDurationSeconds = 10LL * 365 * 24 * 3600;
  std::int64_t renewBeforeSeconds = 365LL * 24 * 3600 / 3;  // a third of the lifetime left
  // How long each step of a CA rotation lasts (render/ca_rotation.h): every kubelet must have
  // written the Secret's new files before the next step relies on them.
  std::int64_t caRotationStepSeconds = 300;
  // TLS on the quorum and election ports, reached on a running ensemble through ZooKeeper's
  // three rolling steps (QuorumTlsStage). Needs tls.client both or on (the certificates).
  bool quorum = false;
  bool enabled() const { return client != ClientTls::kOff; }
};
std::string_view clientTlsName(ClientTls mode);
std::string_view clientAuthName(ClientAuth auth);

// "8760h", "90m", "3600s", "1h30m" (the Go durations cert-manager's Certificate takes) ->
// seconds; nullopt when it is not one.
std::optional<std::int64_t> parseDuration(std::string_view text);

// spec.networkPolicy: a NetworkPolicy for the members' pods when enabled. The peers are
// networking.k8s.io/v1 NetworkPolicyPeer objects, passed through (the API server checks them).
struct NetworkPolicySpec {
  bool enabled = false;
  std::optional<web::json::value> clientFrom;   // client ports; default: pods of the namespace
  std::optional<web::json::value> metricsFrom;  // metrics and admin; default: the same
};

struct ZkClusterSpec {
  int voters = 3;
  int observers = 0;
  std::string image = "zookube/zookube-server:0.1.0";
  std::string imagePullPolicy = "IfNotPresent";
  std::optional<web::json::value> resources;
  Storage storage;
  StringMap config;  // zoo.cfg overrides; operator-owned keys are refused
  Ports ports;
  PodSettings pod;
  std::optional<SecretKeyRef> superUserSecret;
  TlsSpec tls;
  AuthSpec auth;
  NetworkPolicySpec networkPolicy;
};

struct ObjectMeta {
  std::string name;
  std::string ns = "default";
  std::string uid;
  std::int64_t generation = 0;
  StringMap labels;
  StringMap annotations;
};

enum class MemberRole { kUnknown, kLeader, kFollower, kObserver, kStandalone };
std::string_view roleName(MemberRole role);
MemberRole parseRole(std::string_view name);  // srvr's "Mode:" values; unknown -> kUnknown

struct MemberStatus {
  std::string name;
  int id = 0;
  MemberRole role = MemberRole::kUnknown;
  bool ready = false;
  std::int64_t zxid = 0;
  std::string image;
  // Down on purpose on this pass (restarted by the roll, or not yet in the ensemble): when it is
  // still down on the next pass, it gets that pass to come back before it counts as not ready.
  bool plannedDown = false;
  bool operator==(const MemberStatus&) const = default;
};

struct Condition {
  std::string type;    // Available, Progressing, Degraded, TLSReady, CertificatesExpiring
  std::string status;  // "True", "False", "Unknown"
  std::string reason;
  std::string message;
  std::int64_t observedGeneration = 0;
  std::string lastTransitionTime;  // set by the backend, which owns the clock
  bool operator==(const Condition&) const = default;
};

// The rolling restart's progress. It lives in the resource's status so an operator that
// restarts mid-roll continues where it stopped and never restarts a member twice.
struct RollProgress {
  std::string target;                  // config hash + image the roll moves members to
  std::vector<std::string> restarted;  // members already restarted and back in sync
  std::string current;                 // member restarted and not yet back in sync
  std::int64_t syncZxid = 0;           // leader's zxid when `current` was restarted
  bool completed = false;  // every member runs `target`; kept so a finished roll never reruns
  bool operator==(const RollProgress&) const = default;
  bool active() const { return !target.empty() && !completed; }
};

// status.tls: what the members' certificates are, as the operator last read them. Times are
// RFC 3339 UTC ("2027-01-31T12:00:00Z").
struct MemberCertificate {
  std::string name;
  std::string notAfter;
  bool operator==(const MemberCertificate&) const = default;
};
struct TlsStatus {
  std::string client;         // spec.tls.client: both or on
  std::string source;         // operator, secret (secretRef) or cert-manager (issuerRef)
  std::string caFingerprint;  // SHA-256 of the CA certificate, "AB:CD:..."
  std::string caNotAfter;
  std::vector<MemberCertificate> members;
  std::string earliestNotAfter;  // the first member certificate to expire
  std::string nextRenewal;       // when the operator renews next; empty when it does not renew
  std::string caRotation;        // the operator's CA rotation step: Trusting, Switched; or empty
  bool operator==(const TlsStatus&) const = default;
};

// Where the members' quorum and election ports are on the way between plaintext and TLS, in
// ZooKeeper's documented order: every member accepts both (portUnification), then every member
// dials TLS (sslQuorum, still accepting both), then only TLS is accepted. Off goes back the same
// way. Adjacent stages talk to each other, so a roll between two never splits the ensemble.
enum class QuorumTlsStage { kPlaintext, kPortUnification, kTlsUnified, kTls };
std::string_view quorumTlsStageName(QuorumTlsStage stage);
std::optional<QuorumTlsStage> parseQuorumTlsStage(std::string_view name);

// status.quorumTLS: the stage the members are rendered at, and while a migration runs, its step.
struct QuorumTlsStatus {
  QuorumTlsStage stage = QuorumTlsStage::kPlaintext;
  std::string migration;  // "enabling, step 1 of 3: ..."; empty once the spec's stage is reached
  bool operator==(const QuorumTlsStatus&) const = default;
};

// Where SASL between members is on the way between off and required, in ZooKeeper's documented
// order: every member takes part (quorum.auth.enableSasl), then every member authenticates when
// it dials (learnerRequireSasl), then every member refuses peers that do not (serverRequireSasl).
// Off goes back the same way; adjacent stages talk to each other.
enum class QuorumSaslStage { kOff, kEnabled, kLearnerRequired, kServerRequired };
std::string_view quorumSaslStageName(QuorumSaslStage stage);
std::optional<QuorumSaslStage> parseQuorumSaslStage(std::string_view name);
// The mechanism spec.auth asks the quorum to use: GSSAPI with spec.auth.kerberos, else DIGEST-MD5.
std::string quorumSaslMechanism(const AuthSpec& auth);

// status.quorumSASL: the stage the members are rendered at, the mechanism they use (while not
// Off), and while a migration runs, its step.
struct QuorumSaslStatus {
  QuorumSaslStage stage = QuorumSaslStage::kOff;
  std::string mechanism;  // DIGEST-MD5 or GSSAPI; empty at Off
  std::string migration;  // "enabling, step 1 of 3: ..."; empty once the spec's stage is reached
  bool operator==(const QuorumSaslStatus&) const = default;
};

struct ZkClusterStatus {
  std::int64_t observedGeneration = 0;
  std::string phase;  // Creating, Running, Rolling, Scaling, Degraded, Invalid
  std::string leader;
  std::vector<MemberStatus> members;
  int quorumSize = 0;
  int voters = 0;     // voters in the ensemble the operator last applied
  int observers = 0;  // observers the operator last applied (the scale subresource reads it)
  int readyMembers = 0;
  std::string selector;  // label selector for the scale subresource
  std::vector<Condition> conditions;
  RollProgress roll;
  std::optional<TlsStatus> tls;  // only while spec.tls is enabled
  QuorumTlsStatus quorumTls;
  QuorumSaslStatus quorumSasl;
  bool operator==(const ZkClusterStatus&) const = default;
};

struct ZkCluster {
  ObjectMeta meta;
  ZkClusterSpec spec;
  ZkClusterStatus status;
};

// Parse a whole ZkCluster object (apiVersion, kind, metadata, spec, status). Throws SpecError
// listing every problem with its path.
ZkCluster parseZkCluster(const web::json::value& object);
ZkCluster parseZkClusterYaml(std::string_view text);

// YAML text -> JSON value, typing plain scalars as YAML 1.2's core schema does.
web::json::value yamlToJson(std::string_view text);

web::json::value toJson(const ZkClusterSpec& spec);
web::json::value toJson(const ZkClusterStatus& status);
ZkClusterStatus parseStatus(const web::json::value& status);

// zoo.cfg keys the operator writes itself; overriding them would break the ensemble.
bool isOperatorOwnedConfigKey(std::string_view key);

// The timings every member's zoo.cfg starts from (ZooKeeper's sample zoo.cfg); spec.config
// overrides them.
const StringMap& zooCfgDefaults();

// spec.config checked by the server's own zoo.cfg parser (server/config), one problem per key
// ("spec.config.tickTime: 'abc' is not a number"); keys the operator owns are left out.
std::vector<std::string> checkConfigValues(const StringMap& config);

}  // namespace zk::op

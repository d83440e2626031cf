#include "backends/kube/kube_backend.h"

#include <cpprest/asyncrt_utils.h>

#include <algorithm>
#include <charconv>
#include <functional>
#include <map>

#include "backends/kube/kube_secret_files.h"
#include "backends/members/sasl_relay.h"
#include "backends/members/secret_refs.h"
#include "backends/members/zk_admin.h"
#include "kube/leader_election.h"

namespace zk::op::kube {
namespace {

using web::json::value;

std::string str(const value& v, const std::string& field) {
  return v.is_object() && v.has_string_field(field) ? v.at(field).as_string() : std::string();
}

bool podReady(const value& pod) {
  if (!pod.has_object_field("status") || !pod.at("status").has_array_field("conditions")) {
    return false;
  }
  for (const value& cond : pod.at("status").at("conditions").as_array()) {
    if (str(cond, "type") == "Ready") return str(cond, "status") == "True";
  }
  return false;
}

std::string annotation(const value& pod, const std::string& key) {
  const value& meta = pod.at("metadata");
  if (!meta.has_object_field("annotations")) return {};
  return str(meta.at("annotations"), key);
}

// The member's container: the pod's first.
const value* podContainer(const value& pod) {
  if (!pod.has_object_field("spec") || !pod.at("spec").has_array_field("containers")) {
    return nullptr;
  }
  const auto& containers = pod.at("spec").at("containers").as_array();
  return containers.size() == 0 ? nullptr : &containers.at(0);
}

std::string podImage(const value& pod) {
  const value* container = podContainer(pod);
  return container ? str(*container, "image") : std::string();
}

std::string podContainerName(const value& pod) {
  const value* container = podContainer(pod);
  return container ? str(*container, "name") : std::string();
}

// A container the kubelet keeps restarting: its last exit, in the member's own words (the
// termination message) when it left some.
std::string crashLoopOf(const value& pod) {
  if (!pod.has_object_field("status") || !pod.at("status").has_array_field("containerStatuses")) {
    return {};
  }
  for (const value& cs : pod.at("status").at("containerStatuses").as_array()) {
    if (!cs.has_object_field("state") || !cs.at("state").has_object_field("waiting") ||
        str(cs.at("state").at("waiting"), "reason") != "CrashLoopBackOff") {
      continue;
    }
    std::string why = "keeps exiting";
    if (cs.has_object_field("lastState") && cs.at("lastState").has_object_field("terminated")) {
      const value& last = cs.at("lastState").at("terminated");
      if (last.has_integer_field("exitCode")) {
        why = "exits with code " + std::to_string(last.at("exitCode").as_integer());
      }
      std::string said = firstLine(str(last, "message"));
      if (said.empty()) said = str(last, "reason");
      if (!said.empty()) why += ": " + said;
    }
    return why;
  }
  return {};
}

// How long the member's container has been running, from the kubelet's startedAt.
std::optional<std::int64_t> upSecondsOf(const value& pod) {
  if (!pod.has_object_field("status") || !pod.at("status").has_array_field("containerStatuses")) {
    return std::nullopt;
  }
  std::string container = podContainerName(pod);
  for (const value& cs : pod.at("status").at("containerStatuses").as_array()) {
    if (str(cs, "name") != container || !cs.has_object_field("state") ||
        !cs.at("state").has_object_field("running")) {
      continue;
    }
    auto started = utility::datetime::from_string(str(cs.at("state").at("running"), "startedAt"),
                                                  utility::datetime::ISO_8601);
    if (!started.is_initialized()) return std::nullopt;
    return std::max<std::int64_t>(0, utility::datetime::utc_now() - started);
  }
  return std::nullopt;
}

ObservedMember fromPod(const Member& m, const value& pod) {
  ObservedMember om;
  om.member = m;
  if (pod.is_null()) return om;
  om.exists = true;
  om.terminating = pod.at("metadata").has_field("deletionTimestamp");
  om.running = pod.has_object_field("status") && str(pod.at("status"), "phase") == "Running";
  om.rolloutHash = annotation(pod, kRolloutHashAnnotation);
  om.image = podImage(pod);
  om.crashLoop = crashLoopOf(pod);
  om.upSeconds = upSecondsOf(pod);
  return om;
}

// An API answer that will not change by asking again with the same object: a refusal to report.
// Conflicts, throttling and an unavailable server are retried as failures.
bool refusal(const ApiError& e) {
  int code = e.status();
  return code == 400 || code == 403 || code == 404 || code == 422 || code == 500;
}

int integer(const value& v, const std::string& field, int otherwise) {
  return v.is_object() && v.has_integer_field(field) ? v.at(field).as_integer() : otherwise;
}

std::optional<int> ordinalAfter(const std::string& name, const std::string& prefix) {
  if (!name.starts_with(prefix) || name.size() == prefix.size()) return std::nullopt;
  int n = 0;
  const char* first = name.data() + prefix.size();
  const char* last = name.data() + name.size();
  auto [end, ec] = std::from_chars(first, last, n);
  if (ec != std::errc() || end != last) return std::nullopt;
  return n;
}

value ownerReference(const ZkCluster& c) {
  value ref = value::object();
  ref["apiVersion"] = value::string("zookube.dev/v1alpha1");
  ref["kind"] = value::string("ZkCluster");
  ref["name"] = value::string(c.meta.name);
  ref["uid"] = value::string(c.meta.uid);
  return ref;
}

// Event names must be unique; the reason and message hash keeps a repeated event one object.
std::string eventName(const ZkCluster& c, const EmitEvent& e) {
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016zx", std::hash<std::string>{}(e.reason + "\n" + e.message));
  return c.meta.name + "." + buf;
}

bool leads(const ObservedMember& m) {
  return m.ready && (m.role == MemberRole::kLeader || m.role == MemberRole::kStandalone);
}

// spec.auth.kerberos.krb5ConfigRef's ConfigMap as the API server holds it (data, not binaryData:
// a krb5.conf is text).
ConfigMapReader configMapReader(KubeClient& client, const std::string& ns) {
  return [&client, ns](const SecretKeyRef& ref) {
    auto map = client.getIfExists(resourcePath("v1", "ConfigMap", ns, ref.name));
    std::optional<std::string> found;
    if (map && map->has_object_field("data") && map->at("data").has_string_field(ref.key)) {
      found = map->at("data").at(ref.key).as_string();
    }
    return SecretRead{ns + "/" + ref.name, map.has_value(), found, ""};
  };
}

}  // namespace

AddressResolver podIpResolver() {
  return [](const ZkCluster& c, const Member&, const value& pod) -> std::optional<SrvrTarget> {
    if (pod.is_null() || !pod.has_object_field("status")) return std::nullopt;
    std::string ip = str(pod.at("status"), "podIP");
    if (ip.empty()) return std::nullopt;
    return SrvrTarget{ip, operatorPort(clientAccessOfPod(c, pod), c.spec.ports)};
  };
}

ClientAccess clientAccessOfPod(const ZkCluster& c, const value& pod) {
  if (!pod.is_object() || !pod.has_object_field("metadata")) return clientAccessOf(c);
  return recordedOrSpec(annotation(pod, kClientAccessAnnotation), c);
}

std::optional<Member> memberOfPod(const ZkCluster& c, const std::string& podName) {
  if (auto n = ordinalAfter(podName, observerSetName(c) + "-")) return observerMember(c, *n);
  if (auto n = ordinalAfter(podName, voterSetName(c) + "-")) {
    if (*n < kMaxVoters) return voterMember(c, *n);
  }
  return std::nullopt;
}

std::optional<EnsembleView> membershipFromConf(std::string_view text) {
  std::string lines;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == text.npos ? std::string_view() : text.substr(end + 1);
    if (line.starts_with("server.")) lines += std::string(line) + "\n";
  }
  if (lines.empty()) return std::nullopt;
  return zkadmin::parseEnsembleConfig(lines).view();
}

KubeBackend::KubeBackend(KubeClient& client, AddressResolver resolver, KubeBackendOptions options)
    : client_(client), resolver_(std::move(resolver)), options_(std::move(options)) {}

std::string KubeBackend::targetHash(const ZkCluster& c, const SuperUser& super) const {
  return rolloutHash(
      c, options_.addressing,
      memberSecretsFingerprint(super.digest, super.jaas, super.keytab, super.krb5Conf));
}

value KubeBackend::listPods(const ZkCluster& c) {
  return client_.list(resourcePath("v1", "Pod", c.meta.ns),
                      "app.kubernetes.io/name=zookube,app.kubernetes.io/instance=" + c.meta.name);
}

Observed KubeBackend::observe(const ZkCluster& c) {
  value pods = listPods(c);
  std::map<std::string, value> byName;
  for (const value& pod : pods.at("items").as_array()) {
    byName[pod.at("metadata").at("name").as_string()] = pod;
  }
  // Every member the spec or the last applied status names, and every pod that is a member.
  int voters = std::max(c.spec.voters, c.status.voters);
  int observers = std::max(c.spec.observers, c.status.observers);
  std::map<std::string, Member> wanted;
  for (const Member& m : members(c, {voters, observers})) wanted[m.name] = m;
  for (const auto& [name, pod] : byName) {
    if (auto m = memberOfPod(c, name)) wanted.emplace(name, *m);
  }
  Observed o;
  std::vector<SrvrTarget> targets;
  std::vector<size_t> probed;
  for (const auto& [name, m] : wanted) {
    auto it = byName.find(name);
    value pod = it == byName.end() ? value::null() : it->second;
    ObservedMember om = fromPod(m, pod);
    if (om.running) {
      if (auto target = operatorTarget(c, m, pod)) {
        targets.push_back(*target);
        probed.push_back(o.members.size());
      }
    }
    om.ready = podReady(pod);  // confirmed by srvr below
    o.members.push_back(std::move(om));
  }
  std::vector<bool> answered(o.members.size(), false);
  auto answers = askSrvr(targets, options_.probeTimeout);
  for (size_t i = 0; i < answers.size(); ++i) {
    ObservedMember& om = o.members[probed[i]];
    if (!answers[i]) continue;
    answered[probed[i]] = true;
    om.role = answers[i]->role;
    om.zxid = answers[i]->zxid;
  }
  // Ready means the pod's probe passes and the member serves: a pod that passed its last probe
  // but no longer answers is down for the planner.
  for (size_t i = 0; i < o.members.size(); ++i) o.members[i].ready &= answered[i];
  o.ensemble = readMembership(c, o, targets, probed);
  o.tls = tlsObservation(c);
  // Given certificates are checked before anything is applied: a bad one holds every apply.
  // cert-manager's are checked once its Certificates exist (the first apply makes them).
  const TlsSpec& tls = c.spec.tls;
  bool given = tls.enabled() && tls.source == CertificateSource::kSecret;
  bool issued = tls.enabled() && tls.source == CertificateSource::kCertManager && c.status.voters;
  if (given || issued) {
    try {
      providedCertificates(c, members(c, given ? Membership{voters, observers}
                                               : Membership{c.status.voters, c.status.observers}));
    } catch (const Blocked& e) {
      o.blockers.push_back(e.blocker());
    }
  }
  std::vector<value> sets;
  for (const std::string& name : {voterSetName(c), observerSetName(c)}) {
    if (auto sts = client_.getIfExists(resourcePath("apps/v1", "StatefulSet", c.meta.ns, name))) {
      sets.push_back(*sts);
    }
  }
  o.storage = appliedStorage(sets);
  if (auto blocked = podsNotCreated(c, sets, o)) o.blockers.push_back(*blocked);
  return o;
}

// The StatefulSet controller reports a pod it cannot create (Pod Security, a quota, an admission
// webhook) as a FailedCreate Event on the StatefulSet, and some versions as a condition. It
// retries with backoff, bumping the Event's lastTimestamp: one about a missing pod and recent
// enough is still true; an old one is history.
std::optional<Blocker> KubeBackend::podsNotCreated(const ZkCluster& c,
                                                   const std::vector<value>& sets,
                                                   const Observed& o) {
  constexpr auto kRecent = std::chrono::minutes(20);
  for (const value& sts : sets) {
    std::string name = sts.at("metadata").at("name").as_string();
    int want = integer(sts.at("spec"), "replicas", 1);
    std::vector<std::string> missing;
    for (int i = 0; i < want; ++i) {
      std::string pod = name + "-" + std::to_string(i);
      bool exists = std::any_of(o.members.begin(), o.members.end(), [&](const ObservedMember& m) {
        return m.exists && m.member.name == pod;
      });
      if (!exists) missing.push_back(pod);
    }
    if (missing.empty()) continue;
    std::string why;
    if (sts.has_object_field("status") && sts.at("status").has_array_field("conditions")) {
      for (const value& cond : sts.at("status").at("conditions").as_array()) {
        if (str(cond, "status") == "True" && str(cond, "reason") == "FailedCreate") {
          why = str(cond, "message");
        }
      }
    }
    if (why.empty()) {
      value events = client_.list(
          resourcePath("v1", "Event", c.meta.ns), "",
          "involvedObject.kind=StatefulSet,involvedObject.name=" + name + ",reason=FailedCreate");
      std::string latest;
      for (const value& e : events.at("items").as_array()) {
        std::string when = str(e, "lastTimestamp"), message = str(e, "message");
        auto at = parseMicroTime(when);
        bool aboutMissing = std::any_of(missing.begin(), missing.end(), [&](auto& pod) {
          return message.find("Pod " + pod + " ") != std::string::npos;
        });
        if (aboutMissing && at && *at + kRecent > options_.now() && when >= latest) {
          latest = when;
          why = message;
        }
      }
    }
    if (!why.empty()) {
      return Blocker{BlockCause::kPodsNotCreated,
                     "StatefulSet " + name + " has " + std::to_string(want - missing.size()) +
                         " of " + std::to_string(want) + " pods: " + firstLine(why)};
    }
  }
  return std::nullopt;
}

// The membership the leader runs with, from its `conf`; nothing while no member leads.
std::optional<EnsembleView> KubeBackend::readMembership(const ZkCluster& c, const Observed& o,
                                                        const std::vector<SrvrTarget>& targets,
                                                        const std::vector<size_t>& probed) {
  if (options_.assumeAppliedMembership) {
    EnsembleView view;
    int applied = c.status.voters > 0 ? c.status.voters : c.spec.voters;
    for (int i = 0; i < applied; ++i) view.voters.insert(voterMember(c, i).id);
    for (int i = 0; i < c.spec.observers; ++i) view.observers.insert(observerMember(c, i).id);
    return view;
  }
  for (size_t i = 0; i < probed.size(); ++i) {
    if (!leads(o.members[probed[i]])) continue;
    auto answer = askFourLetterWord({targets[i]}, "conf", options_.probeTimeout).front();
    if (!answer) return std::nullopt;
    try {
      return membershipFromConf(*answer);
    } catch (const std::invalid_argument&) {
      return std::nullopt;  // a leader mid-restart; the next pass asks again
    }
  }
  return std::nullopt;
}

std::optional<ExecuteFailure> KubeBackend::execute(const ZkCluster& c, const Plan& plan,
                                                   const SuperUser& super, std::stop_token fence) {
  // The pass's Events tell the transitions its status records: once that status is written, the
  // next pass will not see them again, so they are told even when an action after it fails.
  std::optional<ExecuteFailure> failure;
  bool statusWritten = false;
  for (const Action& action : plan.actions) {
    bool isEvent = std::holds_alternative<EmitEvent>(action);
    if (failure && !(isEvent && statusWritten)) continue;
    if (fence.stop_requested() && !failure) {
      failure =
          ExecuteFailure{describe(action) + ": not carried out: leadership lost", std::nullopt};
      continue;
    }
    try {
      if (auto* s = std::get_if<UpdateStatus>(&action)) {
        updateStatus(c, s->status);
        statusWritten = true;
      } else if (auto* v = std::get_if<ExpandVolumes>(&action)) {
        expandVolumes(c, *v, plan.status);
      } else if (auto* a = std::get_if<ApplyObjects>(&action)) {
        applyObjects(c, a->membership, super);
      } else if (auto* add = std::get_if<ReconfigAdd>(&action)) {
        reconfig(c, add->member, true, super.password);
      } else if (auto* rm = std::get_if<ReconfigRemove>(&action)) {
        reconfig(c, rm->member, false, super.password);
      } else if (auto* r = std::get_if<RestartMember>(&action)) {
        restartMember(c, *r);
      } else if (auto* e = std::get_if<EmitEvent>(&action)) {
        emitEvent(c, *e);
      }
    } catch (const Blocked& e) {
      if (!failure) failure = ExecuteFailure{describe(action) + ": " + e.what(), e.blocker()};
    } catch (const std::exception& e) {
      if (!failure) failure = ExecuteFailure{describe(action) + ": " + e.what(), std::nullopt};
    }
  }
  if (failure) return failure;
  // Renewals come with no spec change: checked on every pass, they rewrite the Secret only.
  if (plan.status.voters > 0) {
    try {
      applyTlsSecrets(c, {plan.status.voters, plan.status.observers});
    } catch (const Blocked& e) {
      return ExecuteFailure{std::string("TLS certificates: ") + e.what(), e.blocker()};
    } catch (const std::exception& e) {
      return ExecuteFailure{std::string("TLS certificates: ") + e.what(), std::nullopt};
    }
  }
  return std::nullopt;
}

std::optional<Blocker> KubeBackend::retryRefusedApply(const ZkCluster& c, const SuperUser& super) {
  bool refused = std::any_of(c.status.conditions.begin(), c.status.conditions.end(), [](auto& x) {
    return x.type == "Degraded" && x.status == "True" &&
           x.reason == infoOf(BlockCause::kApplyRefused).reason;
  });
  if (!refused) return std::nullopt;
  Membership m{c.status.voters > 0 ? c.status.voters : c.spec.voters, c.status.observers};
  try {
    applyObjects(c, m, super);
  } catch (const Blocked& e) {
    return e.blocker();
  }
  return std::nullopt;
}

std::string KubeBackend::superPassword(const ZkCluster& c) {
  if (const auto& ref = c.spec.superUserSecret) {
    return requiredSecretValue(secretReader(client_, c.meta.ns), *ref, "spec.superUserSecret");
  }
  return ownedPassword(c, generatedSuperSecretName(c));
}

std::string KubeBackend::ownedPassword(const ZkCluster& c, const std::string& name) {
  // None named: one made up once, owned by the cluster so it goes with it.
  std::string path = resourcePath("v1", "Secret", c.meta.ns, name);
  if (auto secret = client_.getIfExists(path)) {
    if (auto password = secretValue(*secret, "password")) return *password;
    throw std::runtime_error("Secret " + c.meta.ns + "/" + name +
                             " has no key \"password\"; delete it to have a new one made");
  }
  value made = superDigestSecret(c, "");  // for its metadata and owner
  made["metadata"]["name"] = value::string(name);
  std::string password = zkadmin::newSuperPassword();
  made["data"] = value::object();
  made["data"]["password"] = value::string(utility::conversions::to_base64(
      std::vector<unsigned char>(password.begin(), password.end())));
  try {
    client_.create(resourcePath("v1", "Secret", c.meta.ns), made);
  } catch (const ApiError& e) {
    if (refusal(e)) {
      throw Blocked(
          {BlockCause::kApplyRefused, "Secret " + name + " was refused: " + firstLine(e.what())});
    }
    if (e.status() != 409) throw;
    return ownedPassword(c, name);  // another replica made it first
  }
  return password;
}

std::string KubeBackend::saslJaas(const ZkCluster& c, const std::string& operatorPassword) {
  SecretReader read = secretReader(client_, c.meta.ns);
  return saslJaasFromSecrets(c, operatorPassword, read) +
         quorumDigestJaas(c, read, [&] { return ownedPassword(c, quorumSecretName(c)); });
}

KubeBackend::SuperUser KubeBackend::superUser(const ZkCluster& c) {
  std::string password = superPassword(c);
  std::string digest = zkadmin::superDigest("super", password);
  std::string jaas = saslJaas(c, password);
  std::string keytab = kerberosKeytabFromSecrets(c, secretReader(client_, c.meta.ns));
  std::string krb5Conf = kerberosKrb5Config(c, configMapReader(client_, c.meta.ns));
  return {std::move(password), std::move(digest), std::move(jaas), std::move(keytab),
          std::move(krb5Conf)};
}

void KubeBackend::applyOrBlock(const value& object) {
  try {
    client_.apply(object);
  } catch (const ApiError& e) {
    if (!refusal(e)) throw;
    throw Blocked({BlockCause::kApplyRefused, str(object, "kind") + " " +
                                                  object.at("metadata").at("name").as_string() +
                                                  " was refused: " + firstLine(e.what())});
  }
}

void KubeBackend::applyObjects(const ZkCluster& c, Membership m, const SuperUser& super) {
  applyTlsSecrets(c, m);
  // The digest first: a pod cannot start without the Secret it mounts.
  applyOrBlock(superDigestSecret(c, super.digest, super.jaas, m, options_.addressing));
  std::string fingerprint =
      memberSecretsFingerprint(super.digest, super.jaas, super.keytab, super.krb5Conf);
  std::vector<value> objects = renderObjects(c, m, options_.addressing, fingerprint);
  for (const value& object : objects) applyOrBlock(object);
  deleteUnwanted(c, "networking.k8s.io/v1", "NetworkPolicy", objects,
                 "spec.networkPolicy is not enabled");
}

void KubeBackend::deleteUnwanted(const ZkCluster& c, const std::string& apiVersion,
                                 const std::string& kind, const std::vector<value>& wanted,
                                 const std::string& why) {
  value found;
  try {
    found = client_.list(resourcePath(apiVersion, kind, c.meta.ns), clusterLabelSelector(c));
  } catch (const ApiError& e) {
    if (e.status() == 404) return;  // the kind is not served (no cert-manager): none to delete
    throw;
  }
  std::vector<value> sameKind;
  for (const value& w : wanted) {
    if (str(w, "kind") == kind) sameKind.push_back(w);
  }
  for (const std::string& name : unwantedOwned(c, found.at("items"), sameKind)) {
    if (client_.remove(resourcePath(apiVersion, kind, c.meta.ns, name))) {
      emitEvent(c, {false, "ObjectDeleted", kind + " " + name + " deleted: " + why});
    }
  }
}

// Through any voter that answers: the C client moves on from one that does not.
void KubeBackend::reconfig(const ZkCluster& c, const Member& m, bool add,
                           const std::string& password) {
  std::string connect;
  // A member that enforces SASL: each session authenticates with SASL first, through a relay per
  // member (sasl_relay.h), as the operator's user with the super password.
  std::vector<std::unique_ptr<relay::SaslRelay>> saslRelays;
  value pods = listPods(c);
  for (const value& pod : pods.at("items").as_array()) {
    auto member = memberOfPod(c, pod.at("metadata").at("name").as_string());
    if (!member || !member->voter) continue;
    auto target = operatorTarget(c, *member, pod);
    if (!target) continue;
    // As the member runs, not as the spec asks: mid-roll some members enforce and some not.
    if (operatorConnection(clientAccessOfPod(c, pod)).sasl) {
      saslRelays.push_back(std::make_unique<relay::SaslRelay>(
          target->host, target->port, relay::SaslLogin{kOperatorSaslUser, password}));
      target = SrvrTarget{"127.0.0.1", saslRelays.back()->localPort()};
    }
    connect += (connect.empty() ? "" : ",") + target->host + ":" + std::to_string(target->port);
  }
  if (connect.empty())
    throw std::runtime_error("no voter's pod has an address to reconfig through");
  zkadmin::ZkAdmin admin(connect, "super", password, options_.adminTimeout);
  try {
    auto config = add ? admin.reconfig(serverLine(c, m, options_.addressing), "")
                      : admin.reconfig("", std::to_string(m.id));
    char version[24];
    std::snprintf(version, sizeof version, "0x%llx",
                  static_cast<unsigned long long>(config.version));
    emitEvent(c, {false, add ? "MemberAdded" : "MemberRemoved",
                  m.name + (add ? " added to the ensemble as " : " removed from the ensemble") +
                      (add ? (m.voter ? "a voter" : "an observer") : "") + " (configuration " +
                      version + ")"});
  } catch (const zkadmin::AdminError& e) {
    emitEvent(c, {true, "ReconfigFailed",
                  std::string(add ? "adding " : "removing ") + m.name + ": " + e.what()});
    throw;
  }
}

void KubeBackend::restartMember(const ZkCluster& c, const RestartMember& r) {
  client_.remove(resourcePath("v1", "Pod", c.meta.ns, r.member.name));
}

void KubeBackend::updateStatus(const ZkCluster& c, ZkClusterStatus status) {
  // A condition keeps its transition time while its status stays; the clock is ours.
  for (Condition& cond : status.conditions) {
    if (!cond.lastTransitionTime.empty()) continue;
    for (const Condition& old : c.status.conditions) {
      if (old.type == cond.type && old.status == cond.status) {
        cond.lastTransitionTime = old.lastTransitionTime;
      }
    }
    if (cond.lastTransitionTime.empty()) {
      std::string t = microTime(options_.now());
      cond.lastTransitionTime = t.substr(0, 19) + "Z";  // metav1.Time has whole seconds
    }
  }
  if (status == c.status) return;
  client_.apply(statusApplyBody(c, status), "status");
}

void KubeBackend::emitEvent(const ZkCluster& c, const EmitEvent& e) {
  std::string t = microTime(options_.now());
  t = t.substr(0, 19) + "Z";
  value event = eventObject(c, {e.warning, e.reason, firstLine(e.message)}, t);
  try {
    client_.create(resourcePath("v1", "Event", c.meta.ns), event);
  } catch (const ApiError& err) {
    if (err.status() != 409) throw;
    // The same event again: as client-go's recorder does, the existing one counts it.
    std::string path = objectPath(event);
    value existing = client_.get(path);
    value patch = value::object();
    patch["count"] = value::number(integer(existing, "count", 1) + 1);
    patch["lastTimestamp"] = value::string(t);
    client_.mergePatch(path, patch);
  }
}

value statusApplyBody(const ZkCluster& c, const ZkClusterStatus& status) {
  value body = value::object();
  body["apiVersion"] = value::string("zookube.dev/v1alpha1");
  body["kind"] = value::string("ZkCluster");
  body["metadata"] = value::object();
  body["metadata"]["name"] = value::string(c.meta.name);
  body["metadata"]["namespace"] = value::string(c.meta.ns);
  body["status"] = toJson(status);
  return body;
}

value eventObject(const ZkCluster& c, const EmitEvent& e, const std::string& time) {
  value ev = value::object();
  ev["apiVersion"] = value::string("v1");
  ev["kind"] = value::string("Event");
  ev["metadata"] = value::object();
  ev["metadata"]["name"] = value::string(eventName(c, e));
  ev["metadata"]["namespace"] = value::string(c.meta.ns);
  value involved = ownerReference(c);
  involved["namespace"] = value::string(c.meta.ns);
  ev["involvedObject"] = involved;
  ev["reason"] = value::string(e.reason);
  ev["message"] = value::string(e.message);
  ev["type"] = value::string(e.warning ? "Warning" : "Normal");
  ev["firstTimestamp"] = value::string(time);
  ev["lastTimestamp"] = value::string(time);
  ev["count"] = value::number(1);
  ev["source"] = value::object();
  ev["source"]["component"] = value::string(kFieldManager);
  ev["reportingComponent"] = value::string("zookube.dev/operator");
  return ev;
}

}  // namespace zk::op::kube

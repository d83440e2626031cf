// ZkCluster JSON -> values, with the CRD schema's defaults and validation rules.
#include <algorithm>
#include <array>
#include <regex>
#include <set>

#include "model/zk_cluster.h"

namespace zk::op {
namespace {

using web::json::value;

// Walks one JSON object, recording errors under `path` and refusing unknown fields, as a
// structural schema with strict field validation does.
class Fields {
 public:
  Fields(const value& object, std::string path, std::vector<std::string>& errors,
         std::set<std::string> known)
      : object_(object), path_(std::move(path)), errors_(errors) {
    if (!object.is_object()) {
      fail(path_, "must be an object");
      return;
    }
    for (const auto& [key, _] : object.as_object()) {
      if (!known.contains(key)) fail(path_ + "." + key, "unknown field");
    }
  }

  const value* get(const std::string& key) const {
    if (!object_.is_object() || !object_.has_field(key)) return nullptr;
    const value& v = object_.at(key);
    return v.is_null() ? nullptr : &v;
  }
  std::string at(const std::string& key) const { return path_ + "." + key; }
  const std::string& path() const { return path_; }
  std::vector<std::string>& errors() const { return errors_; }
  void fail(const std::string& path, const std::string& why) {
    errors_.push_back(path + ": " + why);
  }

  std::optional<std::int64_t> integer(const std::string& key) {
    const value* v = get(key);
    if (!v) return std::nullopt;
    if (!v->is_integer()) {
      fail(at(key), "must be an integer");
      return std::nullopt;
    }
    return v->as_number().to_int64();
  }
  std::optional<std::string> string(const std::string& key) {
    const value* v = get(key);
    if (!v) return std::nullopt;
    if (!v->is_string()) {
      fail(at(key), "must be a string");
      return std::nullopt;
    }
    return v->as_string();
  }
  StringMap stringMap(const std::string& key) {
    StringMap out;
    const value* v = get(key);
    if (!v) return out;
    if (!v->is_object()) {
      fail(at(key), "must be a map of strings");
      return out;
    }
    for (const auto& [k, item] : v->as_object()) {
      if (!item.is_string()) {
        fail(at(key) + "." + k, "must be a string");
        continue;
      }
      out[k] = item.as_string();
    }
    return out;
  }
  std::optional<value> objectOrArray(const std::string& key, bool wantArray) {
    const value* v = get(key);
    if (!v) return std::nullopt;
    if (wantArray ? !v->is_array() : !v->is_object()) {
      fail(at(key), wantArray ? "must be a list" : "must be an object");
      return std::nullopt;
    }
    return *v;
  }

 private:
  const value& object_;
  std::string path_;
  std::vector<std::string>& errors_;
};

void parsePorts(Fields& parent, Ports& ports) {
  const value* v = parent.get("ports");
  if (!v) return;
  Fields f(*v, parent.at("ports"), parent.errors(),
           {"client", "quorum", "election", "metrics", "admin", "secureClient"});
  std::array<std::pair<const char*, int*>, 6> all{{{"client", &ports.client},
                                                   {"quorum", &ports.quorum},
                                                   {"election", &ports.election},
                                                   {"metrics", &ports.metrics},
                                                   {"admin", &ports.admin},
                                                   {"secureClient", &ports.secureClient}}};
  std::map<int, std::string> seen;
  for (auto [name, port] : all) {
    if (auto n = f.integer(name)) {
      if (*n < 1 || *n > 65535) {
        parent.fail(f.at(name), "must be between 1 and 65535, got " + std::to_string(*n));
      } else {
        *port = static_cast<int>(*n);
      }
    }
    if (auto [it, fresh] = seen.emplace(*port, name); !fresh) {
      parent.fail(f.at(name), "must differ from ports." + it->second);
    }
  }
}

void parseStorage(Fields& parent, Storage& storage) {
  const value* v = parent.get("storage");
  if (!v) return;
  Fields f(*v, parent.at("storage"), parent.errors(),
           {"size", "storageClassName", "reclaimPolicy"});
  if (auto s = f.string("size")) {
    static const std::regex quantity(R"(^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$)");
    if (!std::regex_match(*s, quantity)) {
      f.fail(f.at("size"), "must be a quantity such as 10Gi, got \"" + *s + "\"");
    } else {
      storage.size = *s;
    }
  }
  storage.storageClassName = f.string("storageClassName");
  if (auto r = f.string("reclaimPolicy")) {
    if (*r == "Retain") {
      storage.reclaimPolicy = ReclaimPolicy::kRetain;
    } else if (*r == "Delete") {
      storage.reclaimPolicy = ReclaimPolicy::kDelete;
    } else {
      f.fail(f.at("reclaimPolicy"), "must be Retain or Delete, got \"" + *r + "\"");
    }
  }
}

void parsePod(Fields& parent, PodSettings& pod) {
  const value* v = parent.get("pod");
  if (!v) return;
  Fields f(*v, parent.at("pod"), parent.errors(),
           {"labels", "annotations", "affinity", "tolerations", "nodeSelector", "priorityClassName",
            "securityContext"});
  pod.labels = f.stringMap("labels");
  pod.annotations = f.stringMap("annotations");
  pod.affinity = f.objectOrArray("affinity", false);
  pod.tolerations = f.objectOrArray("tolerations", true);
  pod.nodeSelector = f.stringMap("nodeSelector");
  pod.priorityClassName = f.string("priorityClassName");
  pod.securityContext = f.objectOrArray("securityContext", false);
  for (const auto& [key, _] : pod.labels) {
    if (key.starts_with("app.kubernetes.io/")) {
      f.fail(f.at("labels") + "." + key, "is set by the operator");
    }
  }
}

void parseConfig(Fields& f, StringMap& config) {
  const size_t before = f.errors().size();
  config = f.stringMap("config");
  for (const auto& [key, _] : config) {
    if (isOperatorOwnedConfigKey(key)) {
      f.fail(f.at("config") + "." + key, "is set by the operator and cannot be overridden");
    }
    if (key.empty() || key.find_first_of("=\n ") != std::string::npos) {
      f.fail(f.at("config") + "." + key, "is not a valid zoo.cfg key");
    }
  }
  for (const auto& [key, val] : config) {
    if (val.find('\n') != std::string::npos) f.fail(f.at("config") + "." + key, "must be one line");
  }
  // Values are worth checking only once every key is one the user may set, on one line.
  if (f.errors().size() == before) {
    for (std::string& e : checkConfigValues(config)) f.errors().push_back(std::move(e));
  }
}

// The CRD's patterns (crds/zkclusters.zookube.dev.yaml), the same text in both places:
// tests/integration/test_operator_render.py feeds both the same bad values.
bool isImageReference(const std::string& image) {
  static const std::regex reference(
      R"(^([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*(:[0-9]+)?/)?)"
      R"([a-z0-9]+(([._]|__|-+)[a-z0-9]+)*(/[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*)*)"
      R"((:[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,127})?(@[a-zA-Z][a-zA-Z0-9]*([-_+.][a-zA-Z][a-zA-Z0-9]*)*:[0-9a-fA-F]{32,})?$)");
  return image.size() <= 512 && std::regex_match(image, reference);
}

// core/v1 ResourceRequirements' limits and requests: quantities by resource name.
void checkResources(const value& resources, const std::string& path,
                    std::vector<std::string>& errors) {
  static const std::regex quantity(
      R"(^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$)");
  Fields f(resources, path, errors, {"limits", "requests"});
  for (const char* kind : {"limits", "requests"}) {
    const value* amounts = f.get(kind);
    if (!amounts) continue;
    if (!amounts->is_object()) {
      f.fail(f.at(kind), "must be a map of quantities");
      continue;
    }
    for (const auto& [name, amount] : amounts->as_object()) {
      bool ok = amount.is_integer() ||
                (amount.is_string() && std::regex_match(amount.as_string(), quantity));
      if (!ok) f.fail(f.at(kind) + "." + name, "must be a quantity such as 500m or 2Gi");
    }
  }
}

void parseCounts(Fields& f, ZkClusterSpec& spec) {
  if (auto n = f.integer("voters")) {
    if (*n < 1 || *n > 7) {
      f.fail(f.at("voters"), "must be between 1 and 7, got " + std::to_string(*n));
    } else if (*n % 2 == 0) {
      f.fail(f.at("voters"), "must be odd, got " + std::to_string(*n));
    } else {
      spec.voters = static_cast<int>(*n);
    }
  }
  if (auto n = f.integer("observers")) {
    if (*n < 0 || *n > 100) {
      f.fail(f.at("observers"), "must be between 0 and 100, got " + std::to_string(*n));
    } else {
      spec.observers = static_cast<int>(*n);
    }
  }
}

constexpr std::array<std::pair<const char*, ClientTls>, 3> kClientTlsNames{
    {{"off", ClientTls::kOff}, {"both", ClientTls::kBoth}, {"on", ClientTls::kOn}}};
constexpr std::array<std::pair<const char*, ClientAuth>, 3> kClientAuthNames{
    {{"none", ClientAuth::kNone}, {"want", ClientAuth::kWant}, {"need", ClientAuth::kNeed}}};

template <typename Enum, size_t N>
std::string_view nameOf(const std::array<std::pair<const char*, Enum>, N>& names, Enum e) {
  for (const auto& [name, value] : names) {
    if (value == e) return name;
  }
  return names.front().first;
}

// The value `name` names; nullopt when none does.
template <typename Enum, size_t N>
std::optional<Enum> named(const std::array<std::pair<const char*, Enum>, N>& names,
                          std::string_view name) {
  for (const auto& [text, value] : names) {
    if (name == text) return value;
  }
  return std::nullopt;
}

template <typename Enum, size_t N>
std::optional<Enum> oneOf(Fields& f, const std::string& key,
                          const std::array<std::pair<const char*, Enum>, N>& names) {
  auto s = f.string(key);
  if (!s) return std::nullopt;
  std::string allowed;
  for (const auto& [name, e] : names) {
    if (*s == name) return e;
    allowed += (allowed.empty() ? "" : ", ") + std::string(name);
  }
  f.fail(f.at(key), "must be one of " + allowed + ", got \"" + *s + "\"");
  return std::nullopt;
}

std::optional<std::string> secretName(Fields& f, const std::string& key) {
  const value* v = f.get(key);
  if (!v) return std::nullopt;
  Fields ref(*v, f.at(key), f.errors(), {"name"});
  auto name = ref.string("name");
  if (!name || name->empty()) ref.fail(ref.at("name"), "is required");
  return name.value_or("");
}

// secretRef: one Secret for every member (tls.crt naming them all, or a wildcard), or with
// perMember one Secret <name>-<member> each.
void parseSecretRef(Fields& f, TlsSpec& tls) {
  const value* v = f.get("secretRef");
  if (!v) return;
  Fields ref(*v, f.at("secretRef"), f.errors(), {"name", "perMember"});
  auto name = ref.string("name");
  if (!name || name->empty()) ref.fail(ref.at("name"), "is required");
  tls.secretName = name.value_or("");
  if (const value* each = ref.get("perMember")) {
    if (!each->is_boolean()) {
      ref.fail(ref.at("perMember"), "must be a boolean");
    } else {
      tls.secretPerMember = each->as_bool();
    }
  }
}

void parseIssuerRef(Fields& f, TlsSpec& tls) {
  const value* v = f.get("issuerRef");
  if (!v) return;
  Fields ref(*v, f.at("issuerRef"), f.errors(), {"name", "kind", "group"});
  IssuerRef issuer;
  if (auto name = ref.string("name"); name && !name->empty()) {
    issuer.name = *name;
  } else {
    ref.fail(ref.at("name"), "is required");
  }
  if (auto kind = ref.string("kind")) {
    if (*kind != "Issuer" && *kind != "ClusterIssuer") {
      ref.fail(ref.at("kind"), "must be Issuer or ClusterIssuer, got \"" + *kind + "\"");
    }
    issuer.kind = *kind;
  }
  if (auto group = ref.string("group")) issuer.group = *group;
  tls.issuerRef = issuer;
}

void parseDurations(Fields& f, TlsSpec& tls) {
  bool renewSet = false;
  for (auto [key, out] : {std::pair{"duration", &tls.durationSeconds},
                          std::pair{"caDuration", &tls.caDurationSeconds},
                          std::pair{"renewBefore", &tls.renewBeforeSeconds},
                          std::pair{"caRotationStep", &tls.caRotationStepSeconds}}) {
    auto s = f.string(key);
    if (!s) continue;
    auto seconds = parseDuration(*s);
    if (!seconds || *seconds <= 0) {
      f.fail(f.at(key), "must be a duration such as 8760h or 90m, got \"" + *s + "\"");
      continue;
    }
    *out = *seconds;
    renewSet |= std::string_view(key) == "renewBefore";
  }
  if (!renewSet) tls.renewBeforeSeconds = tls.durationSeconds / 3;
  if (tls.renewBeforeSeconds >= tls.durationSeconds) {
    f.fail(f.at("renewBefore"), "must be shorter than duration");
  }
}

void parseTls(Fields& parent, TlsSpec& tls) {
  const value* v = parent.get("tls");
  if (!v) return;
  Fields f(*v, parent.at("tls"), parent.errors(),
           {"client", "clientAuth", "issuer", "caSecretRef", "issuerRef", "secretRef", "duration",
            "caDuration", "renewBefore", "quorum", "caRotationStep"});
  static constexpr std::array<std::pair<const char*, CertificateSource>, 1> issuers{
      {{"operator", CertificateSource::kOperator}}};
  tls.client = oneOf(f, "client", kClientTlsNames).value_or(tls.client);
  if (auto auth = oneOf(f, "clientAuth", kClientAuthNames)) {
    if (!tls.enabled()) f.fail(f.at("clientAuth"), "needs tls.client both or on");
    tls.clientAuth = *auth;
  }
  if (const value* quorum = f.get("quorum")) {
    if (!quorum->is_boolean()) {
      f.fail(f.at("quorum"), "must be a boolean");
    } else {
      tls.quorum = quorum->as_bool();
      if (tls.quorum && !tls.enabled()) f.fail(f.at("quorum"), "needs tls.client both or on");
    }
  }
  bool issuerSet = oneOf(f, "issuer", issuers).has_value() || f.get("issuer");
  tls.caSecretName = secretName(f, "caSecretRef");
  parseIssuerRef(f, tls);
  parseSecretRef(f, tls);
  int sources = int(issuerSet) + int(tls.issuerRef.has_value()) + int(tls.secretName.has_value());
  if (sources > 1) {
    f.fail(f.path(), "name at most one certificate source: issuer, issuerRef or secretRef");
  }
  if (tls.issuerRef) tls.source = CertificateSource::kCertManager;
  if (tls.secretName) tls.source = CertificateSource::kSecret;
  if (tls.caSecretName && tls.source != CertificateSource::kOperator) {
    f.fail(f.at("caSecretRef"), "applies only to issuer: operator");
  }
  parseDurations(f, tls);
}

void parseNetworkPolicy(Fields& parent, NetworkPolicySpec& np) {
  const value* v = parent.get("networkPolicy");
  if (!v) return;
  Fields f(*v, parent.at("networkPolicy"), parent.errors(),
           {"enabled", "clientFrom", "metricsFrom"});
  if (const value* on = f.get("enabled")) {
    if (on->is_boolean()) {
      np.enabled = on->as_bool();
    } else {
      f.fail(f.at("enabled"), "must be a boolean");
    }
  }
  np.clientFrom = f.objectOrArray("clientFrom", true);
  np.metricsFrom = f.objectOrArray("metricsFrom", true);
}

// The CRD's patterns for a SASL user name and a Secret's key (the same text in both places).
bool isSaslUserName(const std::string& name) {
  static const std::regex pattern(R"(^[A-Za-z0-9][A-Za-z0-9._@-]*$)");
  return name.size() <= 64 && std::regex_match(name, pattern);
}
bool isSecretKey(const std::string& key) {
  static const std::regex pattern(R"(^[-._a-zA-Z0-9]+$)");
  return key.size() <= 253 && std::regex_match(key, pattern);
}

void parseSecretKeyRef(Fields& parent, const std::string& field, SecretKeyRef& ref,
                       const char* kind = "Secret");

SaslUser parseSaslUser(const value& v, const std::string& path, std::vector<std::string>& errors) {
  Fields f(v, path, errors, {"name", "passwordSecretRef"});
  SaslUser user;
  user.name = f.string("name").value_or("");
  if (!isSaslUserName(user.name)) {
    f.fail(f.at("name"),
           "must be 1-64 letters, digits, '.', '_', '@' or '-', got \"" + user.name + "\"");
  } else if (user.name == kOperatorSaslUser) {
    f.fail(f.at("name"), std::string("\"") + kOperatorSaslUser + "\" is the operator's own user");
  }
  parseSecretKeyRef(f, "passwordSecretRef", user.passwordSecretRef);
  return user;
}

// A {name, key} reference to a Secret's (or ConfigMap's, `kind`) key; `ref` keeps its default
// key when none is given.
void parseSecretKeyRef(Fields& parent, const std::string& field, SecretKeyRef& ref,
                       const char* kind) {
  const value* v = parent.get(field);
  if (!v) {
    parent.fail(parent.at(field), "is required");
    return;
  }
  Fields rf(*v, parent.at(field), parent.errors(), {"name", "key"});
  auto name = rf.string("name");
  if (!name || name->empty()) rf.fail(rf.at("name"), "is required");
  ref.name = name.value_or("");
  if (auto key = rf.string("key")) {
    if (!isSecretKey(*key)) {
      rf.fail(rf.at("key"), std::string("must be a ") + kind + " key, got \"" + *key + "\"");
    }
    ref.key = *key;
  }
}

std::optional<bool> parseBoolean(Fields& f, const std::string& key) {
  const value* v = f.get(key);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) {
    f.fail(f.at(key), "must be a boolean");
    return std::nullopt;
  }
  return v->as_bool();
}

// The CRD's pattern for spec.auth.kerberos.principal: service/{host}@REALM.
bool isPrincipalPattern(const std::string& principal) {
  static const std::regex pattern(R"(^[A-Za-z0-9._-]+/\{host\}@[A-Za-z0-9._-]+$)");
  return principal.size() <= 253 && std::regex_match(principal, pattern);
}

void parseKerberos(Fields& parent, AuthSpec& auth) {
  const value* v = parent.get("kerberos");
  if (!v) return;
  Fields f(*v, parent.at("kerberos"), parent.errors(),
           {"keytabSecretRef", "krb5ConfigRef", "principal", "removeHostFromPrincipal",
            "removeRealmFromPrincipal"});
  KerberosSpec k;
  parseSecretKeyRef(f, "keytabSecretRef", k.keytabSecretRef);
  if (f.get("krb5ConfigRef")) {
    k.krb5ConfigRef = ConfigMapKeyRef{"", kKrb5ConfigKey};
    parseSecretKeyRef(f, "krb5ConfigRef", *k.krb5ConfigRef, "ConfigMap");
  }
  k.principal = f.string("principal").value_or("");
  if (!isPrincipalPattern(k.principal)) {
    f.fail(f.at("principal"), "must be service/{host}@REALM, got \"" + k.principal + "\"");
  }
  k.removeHostFromPrincipal = parseBoolean(f, "removeHostFromPrincipal").value_or(true);
  k.removeRealmFromPrincipal = parseBoolean(f, "removeRealmFromPrincipal").value_or(true);
  if (auth.sasl) {
    f.fail(f.path(), "cannot be combined with auth.sasl (a JAAS Server section has one mechanism)");
  }
  auth.kerberos = std::move(k);
}

void parseSasl(Fields& parent, AuthSpec& auth) {
  const value* v = parent.get("sasl");
  if (!v) return;
  auth.sasl = true;
  Fields f(*v, parent.at("sasl"), parent.errors(), {"users"});
  const value* users = f.get("users");
  if (!users) return;
  if (!users->is_array()) {
    f.fail(f.at("users"), "must be a list");
    return;
  }
  if (users->size() > 64) f.fail(f.at("users"), "must list at most 64 users");
  std::set<std::string> seen;
  for (size_t i = 0; i < users->size(); ++i) {
    std::string path = f.at("users") + "[" + std::to_string(i) + "]";
    SaslUser user = parseSaslUser(users->at(i), path, f.errors());
    if (!seen.insert(user.name).second) f.fail(path + ".name", "names a user twice");
    auth.users.push_back(std::move(user));
  }
}

// spec.auth.quorum: parsed after kerberos, which decides the mechanism.
void parseQuorumAuth(Fields& parent, AuthSpec& auth) {
  const value* v = parent.get("quorum");
  if (!v) return;
  Fields f(*v, parent.at("quorum"), parent.errors(), {"enabled", "passwordSecretRef"});
  auth.quorum.enabled = parseBoolean(f, "enabled").value_or(false);
  if (!f.get("passwordSecretRef")) return;
  auth.quorum.passwordSecretRef = SecretKeyRef{};
  parseSecretKeyRef(f, "passwordSecretRef", *auth.quorum.passwordSecretRef);
  if (auth.kerberos) {
    f.fail(f.at("passwordSecretRef"),
           "cannot be combined with auth.kerberos (the members authenticate each other with "
           "their Kerberos keys)");
  }
}

// spec.auth; `config` is checked against it: the keys auth.enforce sets cannot also be given.
void parseAuth(Fields& parent, AuthSpec& auth, const StringMap& config) {
  const value* v = parent.get("auth");
  if (!v) return;
  Fields f(*v, parent.at("auth"), parent.errors(), {"sasl", "kerberos", "enforce", "quorum"});
  parseSasl(f, auth);
  parseKerberos(f, auth);
  parseQuorumAuth(f, auth);
  if (const value* enforce = f.get("enforce")) {
    if (!enforce->is_boolean()) {
      f.fail(f.at("enforce"), "must be a boolean");
    } else {
      auth.enforce = enforce->as_bool();
      if (auth.enforce && !auth.sasl)
        f.fail(f.at("enforce"),
               "needs auth.sasl (the operator logs in with DIGEST-MD5 as its own user; it has no "
               "Kerberos login)");
    }
  }
  if (!auth.enforce) return;
  for (const auto& [key, _] : config) {
    if (key.starts_with("enforce.auth.") || key.starts_with("zookeeper.enforce.auth.")) {
      parent.fail(parent.at("config") + "." + key, "is set by spec.auth.enforce");
    }
  }
}

ZkClusterSpec parseSpec(const value& v, std::vector<std::string>& errors) {
  ZkClusterSpec spec;
  Fields f(v, "spec", errors,
           {"voters", "observers", "image", "imagePullPolicy", "resources", "storage", "config",
            "ports", "pod", "superUserSecret", "tls", "auth", "networkPolicy"});
  parseCounts(f, spec);
  if (auto s = f.string("image")) {
    if (isImageReference(*s))
      spec.image = *s;
    else
      f.fail(f.at("image"),
             "must be an image reference such as registry/name:tag, got \"" + *s + "\"");
  }
  if (auto s = f.string("imagePullPolicy")) {
    if (*s != "Always" && *s != "IfNotPresent" && *s != "Never") {
      f.fail(f.at("imagePullPolicy"), "must be Always, IfNotPresent or Never, got \"" + *s + "\"");
    } else {
      spec.imagePullPolicy = *s;
    }
  }
  spec.resources = f.objectOrArray("resources", false);
  if (spec.resources) checkResources(*spec.resources, f.at("resources"), errors);
  parseStorage(f, spec.storage);
  parseConfig(f, spec.config);
  parsePorts(f, spec.ports);
  parsePod(f, spec.pod);
  if (const value* s = f.get("superUserSecret")) {
    Fields sf(*s, f.at("superUserSecret"), errors, {"name", "key"});
    SecretKeyRef ref;
    if (auto name = sf.string("name"))
      ref.name = *name;
    else
      sf.fail(sf.at("name"), "is required");
    if (auto key = sf.string("key")) ref.key = *key;
    spec.superUserSecret = ref;
  }
  parseTls(f, spec.tls);
  parseAuth(f, spec.auth, spec.config);
  parseNetworkPolicy(f, spec.networkPolicy);
  if (spec.tls.enabled() && spec.ports.secureClient == spec.ports.client) {
    f.fail(f.at("ports") + ".secureClient", "must differ from ports.client");
  }
  return spec;
}

ObjectMeta parseMeta(const value& v, std::vector<std::string>& errors) {
  ObjectMeta meta;
  // Only what the operator reads; the rest of ObjectMeta is the API server's business.
  if (!v.is_object()) {
    errors.push_back("metadata: must be an object");
    return meta;
  }
  std::vector<std::string> ignored;
  Fields f(v, "metadata", ignored, {});
  if (auto name = f.string("name")) meta.name = *name;
  static const std::regex dns1035("^[a-z]([-a-z0-9]*[a-z0-9])?$");
  if (meta.name.empty()) {
    errors.push_back("metadata.name: is required");
  } else if (meta.name.size() > 40 || !std::regex_match(meta.name, dns1035)) {
    // Pod names add "-observer-N" and Service names "-headless"; both must stay DNS labels.
    errors.push_back("metadata.name: must be a DNS label of at most 40 characters, got \"" +
                     meta.name + "\"");
  }
  if (auto ns = f.string("namespace")) meta.ns = *ns;
  if (auto uid = f.string("uid")) meta.uid = *uid;
  if (auto g = f.integer("generation")) meta.generation = *g;
  meta.labels = f.stringMap("labels");
  meta.annotations = f.stringMap("annotations");
  return meta;
}

}  // namespace

std::string_view clientTlsName(ClientTls mode) {
  return nameOf(kClientTlsNames, mode);
}

std::string_view clientAuthName(ClientAuth auth) {
  return nameOf(kClientAuthNames, auth);
}

constexpr std::array<std::pair<const char*, QuorumTlsStage>, 4> kQuorumTlsStageNames{
    {{"Plaintext", QuorumTlsStage::kPlaintext},
     {"PortUnification", QuorumTlsStage::kPortUnification},
     {"TLSUnified", QuorumTlsStage::kTlsUnified},
     {"TLS", QuorumTlsStage::kTls}}};

std::string_view quorumTlsStageName(QuorumTlsStage stage) {
  return nameOf(kQuorumTlsStageNames, stage);
}

std::optional<QuorumTlsStage> parseQuorumTlsStage(std::string_view name) {
  return named(kQuorumTlsStageNames, name);
}

constexpr std::array<std::pair<const char*, QuorumSaslStage>, 4> kQuorumSaslStageNames{
    {{"Off", QuorumSaslStage::kOff},
     {"Enabled", QuorumSaslStage::kEnabled},
     {"LearnerRequired", QuorumSaslStage::kLearnerRequired},
     {"ServerRequired", QuorumSaslStage::kServerRequired}}};

std::string_view quorumSaslStageName(QuorumSaslStage stage) {
  return nameOf(kQuorumSaslStageNames, stage);
}

std::optional<QuorumSaslStage> parseQuorumSaslStage(std::string_view name) {
  return named(kQuorumSaslStageNames, name);
}

std::string quorumSaslMechanism(const AuthSpec& auth) {
  return auth.kerberos ? "GSSAPI" : "DIGEST-MD5";
}

std::optional<std::int64_t> parseDuration(std::string_view text) {
  static const std::regex duration(R"(^([0-9]+h)?([0-9]+m)?([0-9]+s)?$)");
  std::string s(text);
  std::smatch m;
  if (s.empty() || s.size() > 20 || !std::regex_match(s, m, duration)) return std::nullopt;
  std::int64_t seconds = 0;
  for (auto [group, unit] : {std::pair{1, 3600}, std::pair{2, 60}, std::pair{3, 1}}) {
    if (m[group].matched) seconds += std::stoll(m[group].str()) * unit;
  }
  return seconds;
}

SpecError::SpecError(std::vector<std::string> errors)
    : std::runtime_error([&] {
        std::string all;
        for (const std::string& e : errors) all += (all.empty() ? "" : "; ") + e;
        return all;
      }()),
      errors_(std::move(errors)) {}

bool isOperatorOwnedConfigKey(std::string_view key) {
  static constexpr std::array<std::string_view, 24> owned{"dataDir",
                                                          "dataLogDir",
                                                          "clientPort",
                                                          "clientPortAddress",
                                                          "secureClientPort",
                                                          "secureClientPortAddress",
                                                          "dynamicConfigFile",
                                                          "standaloneEnabled",
                                                          "reconfigEnabled",
                                                          "peerType",
                                                          "myid",
                                                          "skipACL",
                                                          "metricsProvider.httpPort",
                                                          "metricsProvider.httpHost",
                                                          "metricsProvider.className",
                                                          "admin.serverPort",
                                                          "admin.serverAddress",
                                                          "quorumListenOnAllIPs",
                                                          "sslQuorum",
                                                          "portUnification",
                                                          "sslQuorumReloadCertFiles",
                                                          "ssl.quorum.keyStore.location",
                                                          "ssl.quorum.trustStore.location",
                                                          "java.security.auth.login.config"};
  if (std::find(owned.begin(), owned.end(), key) != owned.end()) return true;
  for (std::string_view prefix : {"server.", "group.", "weight.", "quorum.auth."}) {
    if (key.starts_with(prefix)) return true;
  }
  return false;
}

ZkCluster parseZkCluster(const value& object) {
  std::vector<std::string> errors;
  ZkCluster c;
  if (!object.is_object()) throw SpecError({"(root): must be an object"});
  Fields root(object, "", errors, {"apiVersion", "kind", "metadata", "spec", "status"});
  if (root.string("apiVersion").value_or("") != "zookube.dev/v1alpha1") {
    errors.push_back("apiVersion: must be zookube.dev/v1alpha1");
  }
  if (root.string("kind").value_or("") != "ZkCluster") errors.push_back("kind: must be ZkCluster");
  c.meta = parseMeta(object.has_field("metadata") ? object.at("metadata") : value::null(), errors);
  const value* spec = root.get("spec");
  c.spec = parseSpec(spec ? *spec : value::object(), errors);
  if (const value* status = root.get("status")) c.status = parseStatus(*status);
  // The members' quorum keystores come from the TLS Secret: it stays until they speak plaintext.
  if (!c.spec.tls.enabled() && c.status.quorumTls.stage != QuorumTlsStage::kPlaintext) {
    errors.push_back(
        "spec.tls.client: cannot be off while the quorum still uses TLS (status.quorumTLS.stage " +
        std::string(quorumTlsStageName(c.status.quorumTls.stage)) +
        "); set tls.quorum to false and wait for stage Plaintext");
  }
  // The members' quorum logins name one mechanism; another cannot be rolled onto them while
  // they require it (each side would refuse the other).
  const QuorumSaslStatus& qs = c.status.quorumSasl;
  if (qs.stage != QuorumSaslStage::kOff && !qs.mechanism.empty() &&
      qs.mechanism != quorumSaslMechanism(c.spec.auth)) {
    errors.push_back("spec.auth.kerberos: cannot be " +
                     std::string(c.spec.auth.kerberos ? "added" : "removed") +
                     " while the members authenticate each other with " + qs.mechanism +
                     " (status.quorumSASL.stage " + std::string(quorumSaslStageName(qs.stage)) +
                     "); set auth.quorum.enabled to false and wait for stage Off");
  }
  // Fields() prefixes root-level keys with "."; report them as plain names.
  for (std::string& e : errors) {
    if (e.starts_with(".")) e.erase(0, 1);
  }
  if (!errors.empty()) throw SpecError(std::move(errors));
  return c;
}

ZkCluster parseZkClusterYaml(std::string_view text) {
  return parseZkCluster(yamlToJson(text));
}

}  // namespace zk::op

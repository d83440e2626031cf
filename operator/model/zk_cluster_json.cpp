// ZkCluster values -> JSON (what the operator writes back), status JSON -> values, and YAML ->
// JSON.
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <regex>

#include "model/zk_cluster.h"

namespace zk::op {
namespace {

using web::json::value;

value stringMapJson(const StringMap& m) {
  value out = value::object();
  for (const auto& [k, v] : m) out[k] = value::string(v);
  return out;
}

// YAML 1.2 core schema for plain (unquoted) scalars; quoted ones are always strings.
value scalarJson(const YAML::Node& node) {
  const std::string& s = node.Scalar();
  if (node.Tag() == "!") return value::string(s);
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return value::null();
  if (s == "true" || s == "True" || s == "TRUE") return value::boolean(true);
  if (s == "false" || s == "False" || s == "FALSE") return value::boolean(false);
  static const std::regex integer("^[-+]?[0-9]+$");
  static const std::regex real(R"(^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$)");
  if (std::regex_match(s, integer)) {
    try {
      return value::number(static_cast<int64_t>(std::stoll(s)));
    } catch (const std::out_of_range&) {
      return value::string(s);
    }
  }
  if (std::regex_match(s, real)) return value::number(std::stod(s));
  return value::string(s);
}

value nodeJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return value::null();
    case YAML::NodeType::Scalar:
      return scalarJson(node);
    case YAML::NodeType::Sequence: {
      value out = value::array();
      size_t i = 0;
      for (const YAML::Node& item : node) out[i++] = nodeJson(item);
      return out;
    }
    case YAML::NodeType::Map: {
      value out = value::object();
      for (const auto& kv : node) out[kv.first.Scalar()] = nodeJson(kv.second);
      return out;
    }
  }
  return value::null();
}

value memberJson(const MemberStatus& m) {
  value out = value::object();
  out["name"] = value::string(m.name);
  out["id"] = value::number(m.id);
  out["role"] = value::string(std::string(roleName(m.role)));
  out["ready"] = value::boolean(m.ready);
  // zxids are 64-bit; JSON numbers lose precision past 2^53, so they travel as hex text.
  char hex[24];
  std::snprintf(hex, sizeof hex, "0x%llx", static_cast<unsigned long long>(m.zxid));
  out["zxid"] = value::string(hex);
  out["image"] = value::string(m.image);
  if (m.plannedDown) out["plannedDown"] = value::boolean(true);
  return out;
}

value conditionJson(const Condition& c) {
  value out = value::object();
  out["type"] = value::string(c.type);
  out["status"] = value::string(c.status);
  out["reason"] = value::string(c.reason);
  out["message"] = value::string(c.message);
  out["observedGeneration"] = value::number(static_cast<int64_t>(c.observedGeneration));
  if (!c.lastTransitionTime.empty()) {
    out["lastTransitionTime"] = value::string(c.lastTransitionTime);
  }
  return out;
}

value rollJson(const RollProgress& r) {
  value out = value::object();
  out["target"] = value::string(r.target);
  value done = value::array();
  for (size_t i = 0; i < r.restarted.size(); ++i) done[i] = value::string(r.restarted[i]);
  out["restarted"] = done;
  out["current"] = value::string(r.current);
  char hex[24];
  std::snprintf(hex, sizeof hex, "0x%llx", static_cast<unsigned long long>(r.syncZxid));
  out["syncZxid"] = value::string(hex);
  out["completed"] = value::boolean(r.completed);
  return out;
}

std::string str(const value& o, const char* key) {
  return o.has_field(key) && o.at(key).is_string() ? o.at(key).as_string() : std::string();
}
std::int64_t num(const value& o, const char* key) {
  return o.has_field(key) && o.at(key).is_integer() ? o.at(key).as_number().to_int64() : 0;
}
std::int64_t hexZxid(const value& o, const char* key) {
  std::string s = str(o, key);
  if (s.empty()) return num(o, key);
  try {
    return static_cast<std::int64_t>(std::stoull(s, nullptr, 0));
  } catch (const std::exception&) {
    return 0;
  }
}

value kerberosJson(const KerberosSpec& k) {
  value out = value::object();
  out["keytabSecretRef"]["name"] = value::string(k.keytabSecretRef.name);
  out["keytabSecretRef"]["key"] = value::string(k.keytabSecretRef.key);
  if (const auto& ref = k.krb5ConfigRef) {
    out["krb5ConfigRef"]["name"] = value::string(ref->name);
    out["krb5ConfigRef"]["key"] = value::string(ref->key);
  }
  out["principal"] = value::string(k.principal);
  out["removeHostFromPrincipal"] = value::boolean(k.removeHostFromPrincipal);
  out["removeRealmFromPrincipal"] = value::boolean(k.removeRealmFromPrincipal);
  return out;
}

value authJson(const AuthSpec& auth) {
  value out = value::object();
  if (auth.kerberos) out["kerberos"] = kerberosJson(*auth.kerberos);
  if (auth.quorum.enabled) {
    out["quorum"]["enabled"] = value::boolean(true);
    if (const auto& ref = auth.quorum.passwordSecretRef) {
      out["quorum"]["passwordSecretRef"]["name"] = value::string(ref->name);
      out["quorum"]["passwordSecretRef"]["key"] = value::string(ref->key);
    }
  }
  if (!auth.sasl) return out;
  out["sasl"] = value::object();
  if (!auth.users.empty()) {
    value users = value::array();
    for (const SaslUser& u : auth.users) {
      value user = value::object();
      user["name"] = value::string(u.name);
      user["passwordSecretRef"]["name"] = value::string(u.passwordSecretRef.name);
      user["passwordSecretRef"]["key"] = value::string(u.passwordSecretRef.key);
      users[users.size()] = user;
    }
    out["sasl"]["users"] = users;
  }
  if (auth.enforce) out["enforce"] = value::boolean(true);
  return out;
}

value tlsJson(const TlsSpec& tls) {
  value out = value::object();
  out["client"] = value::string(std::string(clientTlsName(tls.client)));
  out["clientAuth"] = value::string(std::string(clientAuthName(tls.clientAuth)));
  auto ref = [](const std::string& name) {
    value r = value::object();
    r["name"] = value::string(name);
    return r;
  };
  if (tls.caSecretName) out["caSecretRef"] = ref(*tls.caSecretName);
  if (tls.quorum) out["quorum"] = value::boolean(true);
  if (tls.secretName) {
    out["secretRef"] = ref(*tls.secretName);
    if (tls.secretPerMember) out["secretRef"]["perMember"] = value::boolean(true);
  }
  if (tls.issuerRef) {
    value r = ref(tls.issuerRef->name);
    r["kind"] = value::string(tls.issuerRef->kind);
    r["group"] = value::string(tls.issuerRef->group);
    out["issuerRef"] = r;
  }
  out["duration"] = value::string(std::to_string(tls.durationSeconds) + "s");
  out["caDuration"] = value::string(std::to_string(tls.caDurationSeconds) + "s");
  out["renewBefore"] = value::string(std::to_string(tls.renewBeforeSeconds) + "s");
  out["caRotationStep"] = value::string(std::to_string(tls.caRotationStepSeconds) + "s");
  return out;
}

}  // namespace

std::string_view roleName(MemberRole role) {
  switch (role) {
    case MemberRole::kLeader:
      return "leader";
    case MemberRole::kFollower:
      return "follower";
    case MemberRole::kObserver:
      return "observer";
    case MemberRole::kStandalone:
      return "standalone";
    case MemberRole::kUnknown:
      break;
  }
  return "unknown";
}

MemberRole parseRole(std::string_view name) {
  for (MemberRole r : {MemberRole::kLeader, MemberRole::kFollower, MemberRole::kObserver,
                       MemberRole::kStandalone}) {
    if (roleName(r) == name) return r;
  }
  return MemberRole::kUnknown;
}

web::json::value yamlToJson(std::string_view text) {
  try {
    return nodeJson(YAML::Load(std::string(text)));
  } catch (const YAML::Exception& e) {
    throw SpecError({std::string("(yaml): ") + e.what()});
  }
}

value toJson(const ZkClusterSpec& spec) {
  value out = value::object();
  out["voters"] = value::number(spec.voters);
  out["observers"] = value::number(spec.observers);
  out["image"] = value::string(spec.image);
  out["imagePullPolicy"] = value::string(spec.imagePullPolicy);
  if (spec.resources) out["resources"] = *spec.resources;
  if (spec.networkPolicy.enabled) {
    out["networkPolicy"]["enabled"] = value::boolean(true);
    if (spec.networkPolicy.clientFrom)
      out["networkPolicy"]["clientFrom"] = *spec.networkPolicy.clientFrom;
    if (spec.networkPolicy.metricsFrom) {
      out["networkPolicy"]["metricsFrom"] = *spec.networkPolicy.metricsFrom;
    }
  }
  value storage = value::object();
  storage["size"] = value::string(spec.storage.size);
  if (spec.storage.storageClassName) {
    storage["storageClassName"] = value::string(*spec.storage.storageClassName);
  }
  storage["reclaimPolicy"] =
      value::string(spec.storage.reclaimPolicy == ReclaimPolicy::kRetain ? "Retain" : "Delete");
  out["storage"] = storage;
  out["config"] = stringMapJson(spec.config);
  value ports = value::object();
  ports["client"] = value::number(spec.ports.client);
  ports["quorum"] = value::number(spec.ports.quorum);
  ports["election"] = value::number(spec.ports.election);
  ports["metrics"] = value::number(spec.ports.metrics);
  ports["admin"] = value::number(spec.ports.admin);
  ports["secureClient"] = value::number(spec.ports.secureClient);
  out["ports"] = ports;
  if (spec.tls.enabled()) out["tls"] = tlsJson(spec.tls);
  if (spec.auth.any() || spec.auth.quorum.enabled) out["auth"] = authJson(spec.auth);
  if (spec.superUserSecret) {
    value s = value::object();
    s["name"] = value::string(spec.superUserSecret->name);
    s["key"] = value::string(spec.superUserSecret->key);
    out["superUserSecret"] = s;
  }
  return out;
}

namespace {

value tlsJson(const TlsStatus& t) {
  value out = value::object();
  auto put = [&](const char* key, const std::string& text) {
    if (!text.empty()) out[key] = value::string(text);  // a date-time field cannot be ""
  };
  put("client", t.client);
  put("source", t.source);
  put("caFingerprint", t.caFingerprint);
  put("caNotAfter", t.caNotAfter);
  put("earliestNotAfter", t.earliestNotAfter);
  put("nextRenewal", t.nextRenewal);
  put("caRotation", t.caRotation);
  value members = value::array();
  for (size_t i = 0; i < t.members.size(); ++i) {
    members[i]["name"] = value::string(t.members[i].name);
    members[i]["notAfter"] = value::string(t.members[i].notAfter);
  }
  out["members"] = members;
  return out;
}

TlsStatus parseTlsStatus(const value& t) {
  TlsStatus out{str(t, "client"),
                str(t, "source"),
                str(t, "caFingerprint"),
                str(t, "caNotAfter"),
                {},
                str(t, "earliestNotAfter"),
                str(t, "nextRenewal"),
                str(t, "caRotation")};
  if (t.has_field("members") && t.at("members").is_array()) {
    for (const value& m : t.at("members").as_array()) {
      if (m.is_object()) out.members.push_back({str(m, "name"), str(m, "notAfter")});
    }
  }
  return out;
}

}  // namespace

value toJson(const ZkClusterStatus& status) {
  value out = value::object();
  out["observedGeneration"] = value::number(static_cast<int64_t>(status.observedGeneration));
  out["phase"] = value::string(status.phase);
  out["leader"] = value::string(status.leader);
  value members = value::array();
  for (size_t i = 0; i < status.members.size(); ++i) members[i] = memberJson(status.members[i]);
  out["members"] = members;
  out["quorumSize"] = value::number(status.quorumSize);
  out["voters"] = value::number(status.voters);
  out["observers"] = value::number(status.observers);
  out["readyMembers"] = value::number(status.readyMembers);
  out["selector"] = value::string(status.selector);
  value conditions = value::array();
  for (size_t i = 0; i < status.conditions.size(); ++i) {
    conditions[i] = conditionJson(status.conditions[i]);
  }
  out["conditions"] = conditions;
  out["roll"] = rollJson(status.roll);
  if (status.tls) out["tls"] = tlsJson(*status.tls);
  if (status.quorumTls != QuorumTlsStatus{}) {
    value& q = out["quorumTLS"];
    q["stage"] = value::string(std::string(quorumTlsStageName(status.quorumTls.stage)));
    if (!status.quorumTls.migration.empty()) {
      q["migration"] = value::string(status.quorumTls.migration);
    }
  }
  if (status.quorumSasl != QuorumSaslStatus{}) {
    value& q = out["quorumSASL"];
    q["stage"] = value::string(std::string(quorumSaslStageName(status.quorumSasl.stage)));
    if (!status.quorumSasl.mechanism.empty()) {
      q["mechanism"] = value::string(status.quorumSasl.mechanism);
    }
    if (!status.quorumSasl.migration.empty()) {
      q["migration"] = value::string(status.quorumSasl.migration);
    }
  }
  return out;
}

ZkClusterStatus parseStatus(const value& v) {
  // Status is written by the operator; read it leniently so a hand-edited field cannot wedge it.
  ZkClusterStatus s;
  if (!v.is_object()) return s;
  s.observedGeneration = num(v, "observedGeneration");
  s.phase = str(v, "phase");
  s.leader = str(v, "leader");
  s.quorumSize = static_cast<int>(num(v, "quorumSize"));
  s.voters = static_cast<int>(num(v, "voters"));
  s.observers = static_cast<int>(num(v, "observers"));
  s.readyMembers = static_cast<int>(num(v, "readyMembers"));
  s.selector = str(v, "selector");
  if (v.has_field("members") && v.at("members").is_array()) {
    for (const value& m : v.at("members").as_array()) {
      if (!m.is_object()) continue;
      MemberStatus ms{str(m, "name"),
                      static_cast<int>(num(m, "id")),
                      parseRole(str(m, "role")),
                      m.has_field("ready") && m.at("ready").is_boolean() && m.at("ready").as_bool(),
                      hexZxid(m, "zxid"),
                      str(m, "image"),
                      m.has_field("plannedDown") && m.at("plannedDown").is_boolean() &&
                          m.at("plannedDown").as_bool()};
      s.members.push_back(ms);
    }
  }
  if (v.has_field("conditions") && v.at("conditions").is_array()) {
    for (const value& c : v.at("conditions").as_array()) {
      if (!c.is_object()) continue;
      s.conditions.push_back({str(c, "type"), str(c, "status"), str(c, "reason"), str(c, "message"),
                              num(c, "observedGeneration"), str(c, "lastTransitionTime")});
    }
  }
  if (v.has_field("roll") && v.at("roll").is_object()) {
    const value& r = v.at("roll");
    s.roll.target = str(r, "target");
    s.roll.current = str(r, "current");
    s.roll.syncZxid = hexZxid(r, "syncZxid");
    s.roll.completed =
        r.has_field("completed") && r.at("completed").is_boolean() && r.at("completed").as_bool();
    if (r.has_field("restarted") && r.at("restarted").is_array()) {
      for (const value& n : r.at("restarted").as_array()) {
        if (n.is_string()) s.roll.restarted.push_back(n.as_string());
      }
    }
  }
  if (v.has_field("tls") && v.at("tls").is_object()) s.tls = parseTlsStatus(v.at("tls"));
  if (v.has_field("quorumTLS") && v.at("quorumTLS").is_object()) {
    const value& q = v.at("quorumTLS");
    s.quorumTls.stage = parseQuorumTlsStage(str(q, "stage")).value_or(QuorumTlsStage::kPlaintext);
    s.quorumTls.migration = str(q, "migration");
  }
  if (v.has_field("quorumSASL") && v.at("quorumSASL").is_object()) {
    const value& q = v.at("quorumSASL");
    s.quorumSasl.stage = parseQuorumSaslStage(str(q, "stage")).value_or(QuorumSaslStage::kOff);
    s.quorumSasl.mechanism = str(q, "mechanism");
    s.quorumSasl.migration = str(q, "migration");
  }
  return s;
}

}  // namespace zk::op

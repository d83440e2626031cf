// Members, addresses and zoo.cfg text.
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <sstream>

#include "render/render.h"

namespace zk::op {
namespace {

// Settings the operator needs to talk to members; a user's whitelist is extended, never replaced.
constexpr std::array<std::string_view, 4> kRequiredWords{"srvr", "mntr", "ruok", "conf"};

std::string whitelist(const ZkCluster& c) {
  auto it = c.spec.config.find("4lw.commands.whitelist");
  if (it == c.spec.config.end()) return "srvr,mntr,ruok,conf,isro,stat,envi";
  std::string words = it->second;
  if (words.find('*') != std::string::npos) return words;
  for (std::string_view w : kRequiredWords) {
    if (("," + words + ",").find("," + std::string(w) + ",") == std::string::npos) {
      words += (words.empty() ? "" : ",") + std::string(w);
    }
  }
  return words;
}

// spec.tls's keys, as ZooKeeper 3.8 reads them (zookube accepts the Netty and x509 provider keys
// ZooKeeper needs and has both built in). The keystore is per member: see renderZooCfg.
void addTlsSettings(const ZkCluster& c, StringMap& settings) {
  const TlsSpec& tls = c.spec.tls;
  if (!tls.enabled()) return;
  if (tls.client == ClientTls::kBoth) settings["client.portUnification"] = "true";
  settings["ssl.keyStore.type"] = "PEM";
  settings["ssl.trustStore.type"] = "PEM";
  settings["ssl.clientAuth"] = std::string(clientAuthName(tls.clientAuth));
  settings["serverCnxnFactory"] = "org.apache.zookeeper.server.NettyServerCnxnFactory";
  settings["authProvider.x509"] = "org.apache.zookeeper.server.auth.X509AuthenticationProvider";
}

// The quorum's stage (zk_cluster.h's QuorumTlsStage) in ZooKeeper's keys. The keystore and
// trust store are the client port's files, whose certificates serve and dial (serverAuth and
// clientAuth); renewals rewrite them in place and sslQuorumReloadCertFiles picks them up.
void addQuorumTlsSettings(const ZkCluster& c, StringMap& settings) {
  QuorumTlsStage stage = renderedQuorumTlsStage(c);
  if (stage == QuorumTlsStage::kPlaintext) return;
  settings["ssl.quorum.keyStore.type"] = "PEM";
  settings["ssl.quorum.trustStore.type"] = "PEM";
  settings["sslQuorumReloadCertFiles"] = "true";
  bool dialsTls = stage == QuorumTlsStage::kTlsUnified || stage == QuorumTlsStage::kTls;
  bool acceptsBoth = stage != QuorumTlsStage::kTls;
  settings["sslQuorum"] = dialsTls ? "true" : "false";
  settings["portUnification"] = acceptsBoth ? "true" : "false";
}

// spec.auth: the SASL provider, and with enforce, sessions must have authenticated with SASL
// before anything else (ZooKeeper 3.8's enforce.auth). The JAAS file's path is the member's.
void addAuthSettings(const ZkCluster& c, StringMap& settings) {
  if (!c.spec.auth.any()) return;
  settings["authProvider.sasl"] = "org.apache.zookeeper.server.auth.SASLAuthenticationProvider";
  if (const auto& k = c.spec.auth.kerberos) {
    // The session's sasl id: the principal without its host and realm, as ZooKeeper's keys say.
    settings["kerberos.removeHostFromPrincipal"] = k->removeHostFromPrincipal ? "true" : "false";
    settings["kerberos.removeRealmFromPrincipal"] = k->removeRealmFromPrincipal ? "true" : "false";
  }
  if (c.spec.auth.enforce) {
    settings["enforce.auth.enabled"] = "true";
    settings["enforce.auth.schemes"] = "sasl";
  }
}

// spec.auth.quorum at its rendered stage (zk_cluster.h's QuorumSaslStage) in ZooKeeper's keys;
// the login contexts are ZooKeeper's defaults, QuorumServer and QuorumLearner.
void addQuorumSaslSettings(const ZkCluster& c, StringMap& settings) {
  QuorumSaslStage stage = renderedQuorumSaslStage(c);
  if (stage == QuorumSaslStage::kOff) return;
  auto flag = [](bool on) { return std::string(on ? "true" : "false"); };
  settings["quorum.auth.enableSasl"] = "true";
  settings["quorum.auth.learnerRequireSasl"] = flag(stage != QuorumSaslStage::kEnabled);
  settings["quorum.auth.serverRequireSasl"] = flag(stage == QuorumSaslStage::kServerRequired);
  if (const auto& k = c.spec.auth.kerberos) {
    // The peers' own principals: service/{host}@REALM -> service/_HOST, which a learner turns
    // into the host of the server.N line it dials (the realm from krb5.conf's domain_realm).
    std::string service = k->principal.substr(0, k->principal.find('/'));
    settings["quorum.auth.kerberos.servicePrincipal"] = service + "/_HOST";
  }
}

// Everything every member's file shares, in a fixed order (so the hash is stable): ZooKeeper's
// usual timings unless overridden, then the user's overrides, then what the operator owns.
std::string sharedSettings(const ZkCluster& c) {
  StringMap settings = zooCfgDefaults();
  for (const auto& [k, v] : c.spec.config) settings[k] = v;
  settings["4lw.commands.whitelist"] = whitelist(c);
  settings["standaloneEnabled"] = "false";  // even one voter runs as a quorum, so it can grow
  settings["reconfigEnabled"] = "true";
  addTlsSettings(c, settings);
  addQuorumTlsSettings(c, settings);
  addAuthSettings(c, settings);
  addQuorumSaslSettings(c, settings);
  std::ostringstream out;
  for (const auto& [k, v] : settings) out << k << '=' << v << '\n';
  return out.str();
}

// Whether `a` renders the paths a pod's container sees (render.h: Addressing::podRoots).
bool inPod(const Addressing& a) {
  return a.mode == Addressing::Mode::kKubernetes || a.podRoots;
}

// `path` as member `m`'s container sees it: itself in Kubernetes, under the pod's root on loopback.
std::string podPath(const Member& m, const Addressing& a, std::string_view path) {
  if (a.mode == Addressing::Mode::kKubernetes) return std::string(path);
  return a.localStateDir + "/" + m.name + "/root" + std::string(path);
}

}  // namespace

std::string sha256Hex(std::string_view text, size_t chars) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len && out.size() < chars; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

Membership desiredMembership(const ZkCluster& c) {
  return {c.spec.voters, c.spec.observers};
}

Member voterMember(const ZkCluster& c, int ordinal) {
  return {c.meta.name + "-" + std::to_string(ordinal), ordinal, ordinal + 1, true};
}

Member observerMember(const ZkCluster& c, int ordinal) {
  return {c.meta.name + "-observer-" + std::to_string(ordinal), ordinal, kObserverIdBase + ordinal,
          false};
}

std::vector<Member> members(const ZkCluster& c, Membership m) {
  std::vector<Member> out;
  for (int i = 0; i < m.voters; ++i) out.push_back(voterMember(c, i));
  for (int i = 0; i < m.observers; ++i) out.push_back(observerMember(c, i));
  return out;
}

Endpoint endpointOf(const ZkCluster& c, const Member& m, const Addressing& a) {
  if (a.mode == Addressing::Mode::kKubernetes) {
    return {m.name + "." + headlessServiceName(c) + "." + c.meta.ns + ".svc." + a.clusterDomain,
            c.spec.ports};
  }
  int offset = m.voter ? m.ordinal : kMaxVoters + m.ordinal;
  Ports p = c.spec.ports;
  for (int* port : {&p.client, &p.quorum, &p.election, &p.metrics, &p.admin, &p.secureClient}) {
    *port += offset;
  }
  return {a.localHost, p};
}

std::string dataDirOf(const ZkCluster& c, const Member& m, const Addressing& a) {
  if (inPod(a)) return podPath(m, a, "/data");
  (void)c;
  return a.localStateDir + "/" + m.name + "/data";
}

std::string jaasFileOf(const ZkCluster& c, const Member& m, const Addressing& a) {
  if (!inPod(a)) return a.localStateDir + "/" + m.name + "/jaas.conf";
  // Kerberos: each member has its own principal, so its own file in the same Secret.
  if (c.spec.auth.kerberos) {
    return podPath(m, a, std::string(kJaasMountDir) + "/" + m.name + ".jaas.conf");
  }
  return podPath(m, a, kJaasMountFile);
}

std::string keytabFileOf(const ZkCluster& c, const Member& m, const Addressing& a) {
  const SecretKeyRef& ref = c.spec.auth.kerberos.value().keytabSecretRef;
  if (inPod(a)) return podPath(m, a, std::string(kKeytabMountDir) + "/" + ref.key);
  // A fixed name: the user's key could be any of the member's own files' names.
  return a.localStateDir + "/" + m.name + "/krb5.keytab";
}

std::string krb5ConfigFileOf(const ZkCluster& c, const Member& m, const Addressing& a) {
  const auto& ref = c.spec.auth.kerberos.value().krb5ConfigRef;
  if (!ref) return "";
  if (inPod(a)) return podPath(m, a, std::string(kKrb5ConfigMountDir) + "/" + ref->key);
  return a.localStateDir + "/" + m.name + "/krb5.conf";
}

std::string kerberosPrincipalOf(const ZkCluster& c, const Member& m, const Addressing& a) {
  std::string principal = c.spec.auth.kerberos.value().principal;
  std::string_view placeholder = kKerberosHostPlaceholder;
  principal.replace(principal.find(placeholder), placeholder.size(), endpointOf(c, m, a).host);
  return principal;
}

std::string renderKerberosJaas(const ZkCluster& c, const Member& m, const Addressing& a) {
  auto section = [&](std::string_view name) {
    return std::string(name) +
           " {\n"
           "  com.sun.security.auth.module.Krb5LoginModule required\n"
           "  useKeyTab=true\n"
           "  keyTab=\"" +
           keytabFileOf(c, m, a) +
           "\"\n"
           "  storeKey=true\n"
           "  useTicketCache=false\n"
           "  principal=\"" +
           kerberosPrincipalOf(c, m, a) + "\";\n};\n";
  };
  std::string out = "// Written by zookube-operator from spec.auth.kerberos.\n" + section("Server");
  // Quorum SASL: the member accepts its peers' tickets for its principal and dials with it.
  if (renderedQuorumSaslStage(c) != QuorumSaslStage::kOff) {
    out += section("QuorumServer") + section("QuorumLearner");
  }
  return out;
}

std::string tlsDirOf(const ZkCluster& c, const Member& m, const Addressing& a) {
  if (inPod(a)) return podPath(m, a, kTlsMountPath);
  (void)c;
  return a.localStateDir + "/" + m.name + "/tls";
}

QuorumTlsStage renderedQuorumTlsStage(const ZkCluster& c) {
  if (c.status.voters == 0) {
    return c.spec.tls.quorum ? QuorumTlsStage::kTls : QuorumTlsStage::kPlaintext;
  }
  return c.status.quorumTls.stage;
}

QuorumSaslStage renderedQuorumSaslStage(const ZkCluster& c) {
  if (c.status.voters == 0) {
    return c.spec.auth.quorum.enabled ? QuorumSaslStage::kServerRequired : QuorumSaslStage::kOff;
  }
  return c.status.quorumSasl.stage;
}

bool rendersQuorumDigest(const ZkCluster& c) {
  return renderedQuorumSaslStage(c) != QuorumSaslStage::kOff && !c.spec.auth.kerberos;
}

bool membersReadJaas(const ZkCluster& c) {
  return c.spec.auth.any() || renderedQuorumSaslStage(c) != QuorumSaslStage::kOff;
}

bool hasPlainClientPort(const ZkCluster& c) {
  return c.spec.tls.client != ClientTls::kOn;
}

std::string serverLine(const ZkCluster& c, const Member& m, const Addressing& a) {
  Endpoint e = endpointOf(c, m, a);
  // Locally the client address is named here as well as in clientPortAddress: ZooKeeper 3.8
  // refuses a static clientPortAddress that differs from the server line's (";port" means
  // 0.0.0.0).
  std::string line = "server." + std::to_string(m.id) + "=" + e.host + ":" +
                     std::to_string(e.ports.quorum) + ":" + std::to_string(e.ports.election) + ":" +
                     (m.voter ? "participant" : "observer");
  // A server line's client port is the plaintext clientPort; with tls.client on there is none.
  if (!hasPlainClientPort(c)) return line;
  std::string client = a.mode == Addressing::Mode::kLocal ? e.host + ":" : "";
  return line + ";" + client + std::to_string(e.ports.client);
}

std::string renderZooCfg(const ZkCluster& c, const Member& self, Membership m,
                         const Addressing& a) {
  Endpoint e = endpointOf(c, self, a);
  std::ostringstream out;
  out << "# Written by zookube-operator for " << self.name << " (myid " << self.id
      << "); edit the ZkCluster " << c.meta.name << " instead.\n";
  out << sharedSettings(c);
  out << "dataDir=" << dataDirOf(c, self, a) << '\n';
  if (hasPlainClientPort(c)) {
    out << "clientPort=" << e.ports.client << '\n';
    if (a.mode == Addressing::Mode::kLocal) out << "clientPortAddress=" << e.host << '\n';
  }
  // `both` listens on the secure port too, so that moving on to `on` never leaves a member the
  // operator (and TLS-only clients) cannot reach mid-roll.
  if (c.spec.tls.enabled()) {
    out << "secureClientPort=" << e.ports.secureClient << '\n';
    if (a.mode == Addressing::Mode::kLocal) out << "secureClientPortAddress=" << e.host << '\n';
  }
  if (c.spec.tls.enabled()) {
    std::string dir = tlsDirOf(c, self, a);
    out << "ssl.keyStore.location=" << dir << "/" << self.name << ".pem\n";
    out << "ssl.trustStore.location=" << dir << "/ca.crt\n";
    if (renderedQuorumTlsStage(c) != QuorumTlsStage::kPlaintext) {
      out << "ssl.quorum.keyStore.location=" << dir << "/" << self.name << ".pem\n";
      out << "ssl.quorum.trustStore.location=" << dir << "/ca.crt\n";
    }
  }
  if (membersReadJaas(c)) {
    out << "java.security.auth.login.config=" << jaasFileOf(c, self, a) << '\n';
  }
  out << "metricsProvider.httpPort=" << e.ports.metrics << '\n';
  // Loopback pods listen nowhere else (the local backend adds this itself, to every member).
  if (a.podRoots) out << "metricsProvider.httpHost=" << e.host << '\n';
  if (a.mode == Addressing::Mode::kKubernetes) {
    out << "admin.serverPort=" << e.ports.admin << '\n';
  } else {
    // Locally the admin ports would crowd the operator's own metrics port; nothing needs them.
    out << "admin.enableServer=false\n";
  }
  out << "peerType=" << (self.voter ? "participant" : "observer") << '\n';
  for (const Member& peer : members(c, m)) out << serverLine(c, peer, a) << '\n';
  return out.str();
}

std::string renderMyid(const Member& self) {
  return std::to_string(self.id) + "\n";
}

std::string rolloutHash(const ZkCluster& c, const Addressing& a, std::string_view superDigest) {
  std::string input = sharedSettings(c) + "image=" + c.spec.image + "\n";
  // Left out when empty, so a hash made without it stays what it was.
  if (!superDigest.empty()) input += "superDigest=" + std::string(superDigest) + "\n";
  if (const auto& k = c.spec.auth.kerberos) {
    // What each member's JAAS file says (zoo.cfg holds neither): its login rolls with it.
    input += "kerberos=" + k->principal + " " + k->keytabSecretRef.key + "\n";
    if (const auto& ref = k->krb5ConfigRef)
      input += "krb5Config=" + ref->name + "/" + ref->key + "\n";
  }
  Ports p = c.spec.ports;
  if (c.spec.tls.enabled()) input += "secureClientPort=" + std::to_string(p.secureClient) + "\n";
  input += "ports=" + std::to_string(p.client) + "," + std::to_string(p.quorum) + "," +
           std::to_string(p.election) + "," + std::to_string(p.metrics) + "," +
           std::to_string(p.admin) + "\n";
  if (a.mode == Addressing::Mode::kKubernetes) {
    // Pod template inputs take effect only on a restart under OnDelete, so they roll too.
    web::json::value pod = web::json::value::object();
    pod["pullPolicy"] = web::json::value::string(c.spec.imagePullPolicy);
    if (c.spec.resources) pod["resources"] = *c.spec.resources;
    if (c.spec.pod.affinity) pod["affinity"] = *c.spec.pod.affinity;
    if (c.spec.pod.tolerations) pod["tolerations"] = *c.spec.pod.tolerations;
    if (c.spec.pod.securityContext) pod["securityContext"] = *c.spec.pod.securityContext;
    pod["priorityClassName"] = web::json::value::string(c.spec.pod.priorityClassName.value_or(""));
    // The container's environment beyond POD_NAME, which only spec.auth.kerberos changes
    // (KRB5RCACHEDIR; KRB5_CONFIG follows krb5ConfigRef above).
    if (c.spec.auth.kerberos)
      pod["env"]["KRB5RCACHEDIR"] = web::json::value::string(std::string(kKerberosReplayCacheDir));
    for (const auto* m : {&c.spec.pod.labels, &c.spec.pod.annotations, &c.spec.pod.nodeSelector}) {
      for (const auto& [k, v] : *m) input += k + "=" + v + "\n";
      input += "--\n";
    }
    input += pod.serialize();
  }
  return sha256Hex(input, 16);
}

}  // namespace zk::op

// The desired Kubernetes objects for a ZkCluster, as JSON ready to apply.
#include "render/render.h"

#include <cpprest/asyncrt_utils.h>

#include <set>

#include "render/certificates.h"
#include "render/client_access.h"

namespace zk::op {
namespace {

using web::json::value;

value str(const std::string& s) {
  return value::string(s);
}

value strings(std::initializer_list<std::string> items) {
  value out = value::array();
  size_t i = 0;
  for (const std::string& s : items) out[i++] = str(s);
  return out;
}

value mapJson(const StringMap& m) {
  value out = value::object();
  for (const auto& [k, v] : m) out[k] = str(v);
  return out;
}

StringMap selector(const ZkCluster& c, const std::string& component) {
  StringMap labels{{"app.kubernetes.io/name", "zookube"},
                   {"app.kubernetes.io/instance", c.meta.name}};
  if (!component.empty()) labels["app.kubernetes.io/component"] = component;
  return labels;
}

// "k=v,k=v", as a labelSelector query and the scale subresource take it.
std::string selectorText(const StringMap& labels) {
  std::string out;
  for (const auto& [k, v] : labels) out += (out.empty() ? "" : ",") + k + "=" + v;
  return out;
}

StringMap labels(const ZkCluster& c, const std::string& component) {
  StringMap l = selector(c, component);
  l["app.kubernetes.io/managed-by"] = "zookube-operator";
  l["app.kubernetes.io/part-of"] = "zookube";
  return l;
}

value metadata(const ZkCluster& c, const std::string& name, const std::string& component) {
  value owner = value::object();
  owner["apiVersion"] = str("zookube.dev/v1alpha1");
  owner["kind"] = str("ZkCluster");
  owner["name"] = str(c.meta.name);
  owner["uid"] = str(c.meta.uid);
  owner["controller"] = value::boolean(true);
  owner["blockOwnerDeletion"] = value::boolean(true);
  value meta = value::object();
  meta["name"] = str(name);
  meta["namespace"] = str(c.meta.ns);
  meta["labels"] = mapJson(labels(c, component));
  meta["ownerReferences"][0] = owner;
  return meta;
}

value object(const char* apiVersion, const char* kind, value meta) {
  value out = value::object();
  out["apiVersion"] = str(apiVersion);
  out["kind"] = str(kind);
  out["metadata"] = std::move(meta);
  return out;
}

value servicePort(const std::string& name, int port) {
  value p = value::object();
  p["name"] = str(name);
  p["port"] = value::number(port);
  p["targetPort"] = value::number(port);
  p["protocol"] = str("TCP");
  return p;
}

// The client-facing ports: plaintext (or unified) "client" unless tls.client is on, and the
// TLS-only "client-tls" whenever TLS is on.
value clientPorts(const ZkCluster& c) {
  value out = value::array();
  if (hasPlainClientPort(c)) out[out.size()] = servicePort("client", c.spec.ports.client);
  if (c.spec.tls.enabled()) out[out.size()] = servicePort("client-tls", c.spec.ports.secureClient);
  return out;
}

value headlessService(const ZkCluster& c) {
  value svc = object("v1", "Service", metadata(c, headlessServiceName(c), ""));
  value& spec = svc["spec"];
  spec["clusterIP"] = str("None");
  // Peers must resolve each other before they are ready: readiness needs a quorum first.
  spec["publishNotReadyAddresses"] = value::boolean(true);
  spec["selector"] = mapJson(selector(c, ""));
  const Ports& p = c.spec.ports;
  spec["ports"] = clientPorts(c);
  spec["ports"][spec["ports"].size()] = servicePort("quorum", p.quorum);
  spec["ports"][spec["ports"].size()] = servicePort("election", p.election);
  return svc;
}

value clientService(const ZkCluster& c) {
  value svc = object("v1", "Service", metadata(c, clientServiceName(c), ""));
  value& spec = svc["spec"];
  spec["type"] = str("ClusterIP");
  spec["selector"] = mapJson(selector(c, ""));
  spec["ports"] = clientPorts(c);
  spec["ports"][spec["ports"].size()] = servicePort("metrics", c.spec.ports.metrics);
  return svc;
}

value configMap(const ZkCluster& c, Membership m, const Addressing& a) {
  value cm = object("v1", "ConfigMap", metadata(c, configMapName(c), ""));
  value data = value::object();
  for (const Member& member : members(c, m)) {
    data[member.name + ".cfg"] = str(renderZooCfg(c, member, m, a));
    data[member.name + ".myid"] = str(renderMyid(member));
  }
  cm["data"] = data;
  return cm;
}

value probe(const ZkCluster& c, const char* kind, int period, int failures) {
  value p = value::object();
  // The server answers its own probe: no shell, no nc, no race between connect and read. With
  // tls.client on there is no plaintext port: given its zoo.cfg, the probe speaks TLS to the
  // secure port with the member's own certificate and trust store.
  std::string target = hasPlainClientPort(c) ? "127.0.0.1:" + std::to_string(c.spec.ports.client)
                                             : std::string(kMemberZooCfg);
  p["exec"]["command"] = strings({"zookube-server", "--probe", kind, target});
  p["periodSeconds"] = value::number(period);
  p["timeoutSeconds"] = value::number(5);
  p["failureThreshold"] = value::number(failures);
  return p;
}

value container(const ZkCluster& c) {
  value ct = value::object();
  ct["name"] = str("zookube");
  ct["image"] = str(c.spec.image);
  ct["imagePullPolicy"] = str(c.spec.imagePullPolicy);
  // The ConfigMap holds every member's files; each pod picks its own by name. $(POD_NAME) is
  // expanded by the kubelet. zoo.cfg is put together on the data volume at each start: the
  // server rewrites it on reconfig (the mounts are read-only), and the super user's digest comes
  // from a Secret, not the ConfigMap.
  ct["command"] = strings({"/bin/sh", "-c",
                           "cp /etc/zookube/$(POD_NAME).myid /data/myid && cat "
                           "/etc/zookube/$(POD_NAME).cfg /etc/zookube-super/super-digest.cfg > "
                           "/data/zoo.cfg && exec zookube-server /data/zoo.cfg"});
  value env = value::object();
  env["name"] = str("POD_NAME");
  env["valueFrom"]["fieldRef"]["fieldPath"] = str("metadata.name");
  ct["env"][0] = env;
  if (c.spec.auth.kerberos) {
    // MIT Kerberos keeps the replay cache of a GSSAPI acceptor in /var/tmp, which the read-only
    // root filesystem refuses: every login would fail. The data volume is writable and lasts.
    value rcache = value::object();
    rcache["name"] = str("KRB5RCACHEDIR");
    rcache["value"] = str(std::string(kKerberosReplayCacheDir));
    ct["env"][1] = rcache;
    if (const auto& ref = c.spec.auth.kerberos->krb5ConfigRef) {
      // Realm and KDCs from the user's ConfigMap: a stock image has no krb5.conf of its own.
      value conf = value::object();
      conf["name"] = str("KRB5_CONFIG");
      conf["value"] = str(std::string(kKrb5ConfigMountDir) + "/" + ref->key);
      ct["env"][2] = conf;
    }
  }
  const Ports& p = c.spec.ports;
  std::pair<const char*, int> ports[] = {
      {"quorum", p.quorum}, {"election", p.election}, {"metrics", p.metrics}, {"admin", p.admin}};
  ct["ports"] = value::array();
  const value client = clientPorts(c);
  for (const value& sp : client.as_array()) {
    value cp = value::object();
    cp["name"] = sp.at("name");
    cp["containerPort"] = sp.at("port");
    cp["protocol"] = str("TCP");
    ct["ports"][ct["ports"].size()] = cp;
  }
  for (auto [name, port] : ports) {
    value cp = value::object();
    cp["name"] = str(name);
    cp["containerPort"] = value::number(port);
    cp["protocol"] = str("TCP");
    ct["ports"][ct["ports"].size()] = cp;
  }
  ct["readinessProbe"] = probe(c, "ready", 5, 3);
  value live = probe(c, "live", 10, 6);
  live["initialDelaySeconds"] = value::number(10);
  ct["livenessProbe"] = live;
  if (c.spec.resources) ct["resources"] = *c.spec.resources;
  value data = value::object();
  data["name"] = str("data");
  data["mountPath"] = str("/data");
  value config = value::object();
  config["name"] = str("config");
  config["mountPath"] = str("/etc/zookube");
  config["readOnly"] = value::boolean(true);
  value super = value::object();
  super["name"] = str("super-digest");
  super["mountPath"] = str("/etc/zookube-super");
  super["readOnly"] = value::boolean(true);
  ct["volumeMounts"][0] = data;
  ct["volumeMounts"][1] = config;
  ct["volumeMounts"][2] = super;
  if (c.spec.tls.enabled()) {
    value tls = value::object();
    tls["name"] = str("tls");
    tls["mountPath"] = str(kTlsMountPath);
    tls["readOnly"] = value::boolean(true);
    ct["volumeMounts"][3] = tls;
  }
  if (c.spec.auth.kerberos) {
    value keytab = value::object();
    keytab["name"] = str("keytab");
    keytab["mountPath"] = str(kKeytabMountDir);
    keytab["readOnly"] = value::boolean(true);
    ct["volumeMounts"][ct["volumeMounts"].size()] = keytab;
  }
  if (c.spec.auth.kerberos && c.spec.auth.kerberos->krb5ConfigRef) {
    value krb5 = value::object();
    krb5["name"] = str("krb5-config");
    krb5["mountPath"] = str(kKrb5ConfigMountDir);
    krb5["readOnly"] = value::boolean(true);
    ct["volumeMounts"][ct["volumeMounts"].size()] = krb5;
  }
  // Everything Pod Security "restricted" asks of a container, set on the container itself so
  // that it holds whatever pod-level securityContext the ZkCluster gives.
  value sc = value::object();
  sc["allowPrivilegeEscalation"] = value::boolean(false);
  sc["readOnlyRootFilesystem"] = value::boolean(true);
  sc["runAsNonRoot"] = value::boolean(true);
  sc["capabilities"]["drop"] = strings({"ALL"});
  sc["seccompProfile"]["type"] = str("RuntimeDefault");
  ct["securityContext"] = sc;
  return ct;
}

// Unless the user says otherwise, prefer one voter per node: losing a node then costs one vote.
value defaultAffinity(const ZkCluster& c, const std::string& component) {
  value term = value::object();
  term["weight"] = value::number(100);
  term["podAffinityTerm"]["topologyKey"] = str("kubernetes.io/hostname");
  term["podAffinityTerm"]["labelSelector"]["matchLabels"] = mapJson(selector(c, component));
  value a = value::object();
  a["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0] = term;
  return a;
}

value podSpec(const ZkCluster& c, const std::string& component) {
  const PodSettings& ps = c.spec.pod;
  value spec = value::object();
  spec["containers"][0] = container(c);
  value volume = value::object();
  volume["name"] = str("config");
  volume["configMap"]["name"] = str(configMapName(c));
  spec["volumes"][0] = volume;
  value digest = value::object();
  digest["name"] = str("super-digest");
  digest["secret"]["secretName"] = str(superDigestSecretName(c));
  digest["secret"]["defaultMode"] = value::number(0440);
  spec["volumes"][1] = digest;
  if (c.spec.tls.enabled()) {
    // The members' keystores. A renewal rewrites the Secret; the kubelet updates the files and
    // the server reloads them on its next handshake, so nothing of it is in the pod template.
    value tls = value::object();
    tls["name"] = str("tls");
    tls["secret"]["secretName"] = str(tlsSecretName(c));
    tls["secret"]["defaultMode"] = value::number(0440);
    spec["volumes"][2] = tls;
  }
  if (const auto& k = c.spec.auth.kerberos) {
    // The user's Secret, only the key the spec names; a new keytab rolls the members
    // (memberSecretsFingerprint), which read it when they log in at start.
    const SecretKeyRef& ref = k->keytabSecretRef;
    value keytab = value::object();
    keytab["name"] = str("keytab");
    keytab["secret"]["secretName"] = str(ref.name);
    keytab["secret"]["defaultMode"] = value::number(0440);
    keytab["secret"]["items"][0]["key"] = str(ref.key);
    keytab["secret"]["items"][0]["path"] = str(ref.key);
    spec["volumes"][spec["volumes"].size()] = keytab;
    if (const auto& conf = k->krb5ConfigRef) {
      // Likewise only its key; a changed krb5.conf rolls the members (memberSecretsFingerprint).
      value krb5 = value::object();
      krb5["name"] = str("krb5-config");
      krb5["configMap"]["name"] = str(conf->name);
      krb5["configMap"]["items"][0]["key"] = str(conf->key);
      krb5["configMap"]["items"][0]["path"] = str(conf->key);
      spec["volumes"][spec["volumes"].size()] = krb5;
    }
  }
  spec["affinity"] = ps.affinity ? *ps.affinity : defaultAffinity(c, component);
  if (ps.tolerations) spec["tolerations"] = *ps.tolerations;
  if (!ps.nodeSelector.empty()) spec["nodeSelector"] = mapJson(ps.nodeSelector);
  if (ps.priorityClassName) spec["priorityClassName"] = str(*ps.priorityClassName);
  if (ps.securityContext) {
    spec["securityContext"] = *ps.securityContext;
  } else {
    value sc = value::object();
    sc["runAsNonRoot"] = value::boolean(true);
    sc["runAsUser"] = value::number(1000);
    sc["runAsGroup"] = value::number(1000);
    sc["fsGroup"] = value::number(1000);
    sc["seccompProfile"]["type"] = str("RuntimeDefault");
    spec["securityContext"] = sc;
  }
  spec["terminationGracePeriodSeconds"] = value::number(30);
  return spec;
}

value statefulSet(const ZkCluster& c, const std::string& name, const std::string& component,
                  int replicas, const Addressing& a, std::string_view superDigest) {
  value sts = object("apps/v1", "StatefulSet", metadata(c, name, component));
  value& spec = sts["spec"];
  spec["replicas"] = value::number(replicas);
  spec["serviceName"] = str(headlessServiceName(c));
  // Parallel: a quorum needs its members up together; OrderedReady would wait forever on pod 0.
  spec["podManagementPolicy"] = str("Parallel");
  // OnDelete: the operator restarts pods itself, in quorum-safe order.
  spec["updateStrategy"]["type"] = str("OnDelete");
  spec["selector"]["matchLabels"] = mapJson(selector(c, component));
  value& tmpl = spec["template"];
  StringMap podLabels = c.spec.pod.labels;
  for (const auto& [k, v] : labels(c, component)) podLabels[k] = v;
  tmpl["metadata"]["labels"] = mapJson(podLabels);
  StringMap annotations = c.spec.pod.annotations;
  annotations[kRolloutHashAnnotation] = rolloutHash(c, a, superDigest);
  // What a pod made from this template runs on its client port: the operator reaches each
  // member by it, not by the spec, while a roll is part way (client_access.h).
  annotations[kClientAccessAnnotation] = formatClientAccess(clientAccessOf(c));
  tmpl["metadata"]["annotations"] = mapJson(annotations);
  tmpl["spec"] = podSpec(c, component);
  value claim = value::object();
  claim["metadata"]["name"] = str("data");
  claim["metadata"]["labels"] = mapJson(selector(c, component));
  claim["spec"]["accessModes"] = strings({"ReadWriteOnce"});
  claim["spec"]["resources"]["requests"]["storage"] = str(c.spec.storage.size);
  if (c.spec.storage.storageClassName) {
    claim["spec"]["storageClassName"] = str(*c.spec.storage.storageClassName);
  }
  spec["volumeClaimTemplates"][0] = claim;
  std::string reclaim =
      c.spec.storage.reclaimPolicy == ReclaimPolicy::kDelete ? "Delete" : "Retain";
  spec["persistentVolumeClaimRetentionPolicy"]["whenDeleted"] = str(reclaim);
  spec["persistentVolumeClaimRetentionPolicy"]["whenScaled"] = str(reclaim);
  return sts;
}

value voterBudget(const ZkCluster& c) {
  value pdb = object("policy/v1", "PodDisruptionBudget", metadata(c, pdbName(c), "voter"));
  pdb["spec"]["maxUnavailable"] = value::number(1);
  pdb["spec"]["selector"]["matchLabels"] = mapJson(selector(c, "voter"));
  return pdb;
}

// Ingress on `ports` from `from` (NetworkPolicyPeers).
value ingressRule(std::initializer_list<int> ports, const value& from) {
  value rule = value::object();
  rule["ports"] = value::array();
  for (int port : ports) {
    value p = value::object();
    p["protocol"] = str("TCP");
    p["port"] = value::number(port);
    rule["ports"][rule["ports"].size()] = p;
  }
  rule["from"] = from;
  return rule;
}

// Least exposure: quorum and election ports from the cluster's members only; client ports and
// metrics/admin from the peers the spec names, by default every pod of the namespace. Egress is
// left open (members reach each other and DNS).
value networkPolicy(const ZkCluster& c) {
  value np = object("networking.k8s.io/v1", "NetworkPolicy", metadata(c, networkPolicyName(c), ""));
  value& spec = np["spec"];
  spec["podSelector"]["matchLabels"] = mapJson(selector(c, ""));
  spec["policyTypes"] = strings({"Ingress"});
  value sameNamespace = value::array();
  sameNamespace[0]["podSelector"] = value::object();
  value members = value::array();
  members[0]["podSelector"]["matchLabels"] = mapJson(selector(c, ""));
  const NetworkPolicySpec& want = c.spec.networkPolicy;
  const Ports& p = c.spec.ports;
  value& rules = spec["ingress"];
  rules[0] = ingressRule({p.quorum, p.election}, members);
  value clients = want.clientFrom.value_or(sameNamespace);
  if (hasPlainClientPort(c)) rules[rules.size()] = ingressRule({p.client}, clients);
  if (c.spec.tls.enabled()) rules[rules.size()] = ingressRule({p.secureClient}, clients);
  rules[rules.size()] = ingressRule({p.metrics, p.admin}, want.metricsFrom.value_or(sameNamespace));
  return np;
}

}  // namespace

std::string networkPolicyName(const ZkCluster& c) {
  return c.meta.name + "-zk";
}

std::string headlessServiceName(const ZkCluster& c) {
  return c.meta.name + "-headless";
}
std::string clientServiceName(const ZkCluster& c) {
  return c.meta.name + "-client";
}
std::string configMapName(const ZkCluster& c) {
  return c.meta.name + "-config";
}
std::string voterSetName(const ZkCluster& c) {
  return c.meta.name;
}
std::string observerSetName(const ZkCluster& c) {
  return c.meta.name + "-observer";
}
std::string pdbName(const ZkCluster& c) {
  return c.meta.name + "-voters";
}

std::string selectorLabels(const ZkCluster& c) {
  return selectorText(selector(c, "observer"));
}

std::string superDigestSecretName(const ZkCluster& c) {
  return c.meta.name + "-super-digest";
}
std::string quorumSecretName(const ZkCluster& c) {
  return c.meta.name + "-quorum-auth";
}

std::string generatedSuperSecretName(const ZkCluster& c) {
  return c.meta.name + "-super";
}

std::vector<value> renderObjects(const ZkCluster& c, Membership m, const Addressing& a,
                                 std::string_view superDigest) {
  std::vector<value> out{
      headlessService(c),
      clientService(c),
      configMap(c, m, a),
      statefulSet(c, voterSetName(c), "voter", m.voters, a, superDigest),
      statefulSet(c, observerSetName(c), "observer", m.observers, a, superDigest),
      voterBudget(c)};
  if (c.spec.networkPolicy.enabled) out.push_back(networkPolicy(c));
  return out;
}

std::vector<std::string> unwantedOwned(const ZkCluster& c, const value& found,
                                       const std::vector<value>& wanted) {
  std::set<std::string> keep;
  for (const value& w : wanted) keep.insert(w.at("metadata").at("name").as_string());
  std::vector<std::string> out;
  for (const value& item : found.as_array()) {
    const value& meta = item.at("metadata");
    if (!meta.has_array_field("ownerReferences")) continue;
    bool ours = false;
    for (const value& owner : meta.at("ownerReferences").as_array()) {
      ours = ours || (owner.has_boolean_field("controller") && owner.at("controller").as_bool() &&
                      owner.has_string_field("uid") && owner.at("uid").as_string() == c.meta.uid);
    }
    std::string name = meta.at("name").as_string();
    if (ours && !keep.contains(name)) out.push_back(name);
  }
  return out;
}

std::string clusterLabelSelector(const ZkCluster& c) {
  return selectorText(selector(c, ""));
}

std::string memberCertificateName(const Member& m) {
  return m.name + "-tls";
}

value memberCertificate(const ZkCluster& c, const Member& m, std::string_view clusterDomain) {
  value cert = object("cert-manager.io/v1", "Certificate",
                      metadata(c, memberCertificateName(m), m.voter ? "voter" : "observer"));
  CertificateRequest request = memberCertificateRequest(c, m, clusterDomain, 0);
  value& spec = cert["spec"];
  spec["secretName"] = str(memberCertificateName(m));
  spec["commonName"] = str(request.commonName);
  spec["dnsNames"] = value::array();
  for (const std::string& name : request.dnsNames)
    spec["dnsNames"][spec["dnsNames"].size()] = str(name);
  spec["ipAddresses"] = value::array();
  for (const std::string& ip : request.ipAddresses) {
    spec["ipAddresses"][spec["ipAddresses"].size()] = str(ip);
  }
  spec["duration"] = str(std::to_string(c.spec.tls.durationSeconds) + "s");
  spec["renewBefore"] = str(std::to_string(c.spec.tls.renewBeforeSeconds) + "s");
  spec["usages"] = strings({"digital signature", "key encipherment", "server auth", "client auth"});
  spec["privateKey"]["algorithm"] = str("ECDSA");
  spec["privateKey"]["size"] = value::number(256);
  spec["privateKey"]["rotationPolicy"] = str("Always");
  const IssuerRef& issuer = *c.spec.tls.issuerRef;
  spec["issuerRef"]["name"] = str(issuer.name);
  spec["issuerRef"]["kind"] = str(issuer.kind);
  spec["issuerRef"]["group"] = str(issuer.group);
  return cert;
}

value superDigestSecret(const ZkCluster& c, const std::string& digest, const std::string& jaas,
                        Membership m, const Addressing& a) {
  value secret = object("v1", "Secret", metadata(c, superDigestSecretName(c), ""));
  std::string line = "DigestAuthenticationProvider.superDigest=" + digest + "\n";
  auto base64 = [](const std::string& text) {
    return str(
        utility::conversions::to_base64(std::vector<unsigned char>(text.begin(), text.end())));
  };
  secret["type"] = str("Opaque");
  secret["data"]["super-digest.cfg"] = base64(line);
  if (!jaas.empty()) secret["data"]["jaas.conf"] = base64(jaas);
  if (c.spec.auth.kerberos) {
    for (const Member& member : members(c, m)) {
      secret["data"][member.name + ".jaas.conf"] = base64(renderKerberosJaas(c, member, a));
    }
  }
  return secret;
}

namespace {

// A JAAS option value between double quotes, its quotes and backslashes escaped.
std::string jaasQuoted(std::string_view text) {
  std::string quoted = "\"";
  for (char ch : text) {
    if (ch == '"' || ch == '\\') quoted += '\\';
    quoted += ch;
  }
  return quoted + "\"";
}

}  // namespace

std::string renderJaas(const std::vector<SaslCredential>& users) {
  std::string out =
      "// Written by zookube-operator from spec.auth.sasl.\nServer {\n"
      "  org.apache.zookeeper.server.auth.DigestLoginModule required";
  for (const SaslCredential& u : users) out += "\n  user_" + u.user + "=" + jaasQuoted(u.password);
  return out + ";\n};\n";
}

std::string renderQuorumDigestJaas(std::string_view password) {
  std::string user = kQuorumSaslUser;
  return "// Written by zookube-operator from spec.auth.quorum.\nQuorumServer {\n"
         "  org.apache.zookeeper.server.auth.DigestLoginModule required\n"
         "  user_" +
         user + "=" + jaasQuoted(password) +
         ";\n};\nQuorumLearner {\n"
         "  org.apache.zookeeper.server.auth.DigestLoginModule required\n"
         "  username=\"" +
         user + "\"\n  password=" + jaasQuoted(password) + ";\n};\n";
}

std::string memberSecretsFingerprint(std::string_view superDigest, std::string_view jaas,
                                     std::string_view keytab, std::string_view krb5Conf) {
  std::string out(superDigest);
  if (!jaas.empty()) out += "\njaas=" + std::string(jaas);
  if (!keytab.empty()) out += "\nkeytab-sha256=" + sha256Hex(keytab);
  if (!krb5Conf.empty()) out += "\nkrb5conf-sha256=" + sha256Hex(krb5Conf);
  return out;
}

}  // namespace zk::op

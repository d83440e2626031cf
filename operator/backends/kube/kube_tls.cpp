// The Kubernetes backend's TLS side: the operator's CA Secret, the members' keystores Secret
// (issued here, or copied from the user's or cert-manager's Secrets), what status.tls reads from
// it, and the loopback relay through which the operator talks to a TLS-only client port.
#include <cpprest/asyncrt_utils.h>

#include <algorithm>
#include <map>

#include "backends/kube/kube_backend.h"
#include "backends/kube/kube_secret_files.h"
#include "render/ca_rotation.h"
#include "render/tls_cleanup.h"

namespace zk::op::kube {

using web::json::value;

// A Secret's value, decoded; nullopt when the key is absent.
std::optional<std::string> secretValue(const value& secret, const std::string& key) {
  if (!secret.has_object_field("data") || !secret.at("data").has_string_field(key)) {
    return std::nullopt;
  }
  auto bytes = utility::conversions::from_base64(secret.at("data").at(key).as_string());
  std::string out(bytes.begin(), bytes.end());
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

// A Secret's data as text; nullopt when the Secret does not exist.
std::optional<StringMap> secretFiles(KubeClient& client, const std::string& ns,
                                     const std::string& name) {
  auto secret = client.getIfExists(resourcePath("v1", "Secret", ns, name));
  if (!secret) return std::nullopt;
  StringMap files;
  if (secret->has_object_field("data")) {
    for (const auto& [key, _] : secret->at("data").as_object()) {
      if (auto text = secretValue(*secret, key)) files[key] = *text + "\n";
    }
  }
  return files;
}

SecretReader secretReader(KubeClient& client, const std::string& ns) {
  return [&client, ns](const SecretKeyRef& ref) {
    auto secret = client.getIfExists(resourcePath("v1", "Secret", ns, ref.name));
    return SecretRead{ns + "/" + ref.name, secret.has_value(),
                      secret ? secretValue(*secret, ref.key) : std::nullopt, ""};
  };
}

value secretWith(const ZkCluster& c, const std::string& name, const StringMap& files) {
  value secret = superDigestSecret(c, "");  // for its metadata and owner
  secret["metadata"]["name"] = value::string(name);
  secret["data"] = value::object();
  for (const auto& [key, text] : files) {
    secret["data"][key] = value::string(
        utility::conversions::to_base64(std::vector<unsigned char>(text.begin(), text.end())));
  }
  return secret;
}

std::int64_t unixSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

// No CA key to issue from: the operator presents the first member's certificate (key and
// certificate in one PEM, which both loaders read), trusted by every member.
std::optional<relay::TlsClientFiles> firstMemberTlsFiles(KubeClient& client, const ZkCluster& c) {
  auto files = secretFiles(client, c.meta.ns, tlsSecretName(c));
  if (!files || !files->contains("ca.crt")) return std::nullopt;
  auto first = files->find(keystoreFileName(voterMember(c, 0)));
  if (first == files->end()) return std::nullopt;
  return relay::TlsClientFiles{(*files)["ca.crt"], first->second, first->second};
}

}  // namespace

std::optional<relay::TlsClientFiles> KubeBackend::operatorTlsFiles(const ZkCluster& c) {
  if (c.spec.tls.source != CertificateSource::kOperator) return firstMemberTlsFiles(client_, c);
  // Read only: observing never makes the CA, applying does.
  auto files = secretFiles(client_, c.meta.ns, operatorCaSecretName(c));
  auto ca = files ? caBundleOf(*files) : std::nullopt;
  // None: a spec that no longer asks for TLS names no source (the default is the operator's),
  // while members still run the user's or cert-manager's certificates until the roll reaches
  // them; the members' Secret still has them.
  if (!ca) return firstMemberTlsFiles(client_, c);
  // Trusts what the members' certificates may come from (two CAs mid-rotation), and issues from
  // the CA that issues theirs; a new step of a rotation changes the bundle and reissues it.
  std::string trusted = ca->trustBundle();
  std::int64_t now = unixSeconds();
  std::lock_guard lock(tlsMutex_);
  relay::TlsClientFiles& mine = operatorCertificates_[c.meta.ns + "/" + c.meta.name];
  if (mine.caPem != trusted || mine.certPem.empty() ||
      renewalDue(inspectCertificate(mine.certPem), now, c.spec.tls.renewBeforeSeconds)) {
    KeyPair leaf = issueCertificate(operatorCertificateRequest(c, now), ca->current);
    mine = {trusted, leaf.certPem, leaf.keyPem};
  }
  return mine;
}

std::optional<SrvrTarget> KubeBackend::operatorTarget(const ZkCluster& c, const Member& m,
                                                      const value& pod) {
  auto target = resolver_(c, m, pod);
  // The member's own record says whether it still (or already) runs TLS only: mid-roll the
  // spec speaks for the members restarted so far, not for the rest.
  if (!target || !operatorConnection(clientAccessOfPod(c, pod)).tls) return target;
  auto files = operatorTlsFiles(c);
  if (!files) return std::nullopt;
  // The pod's IP is not in its certificate; its name in the headless Service is.
  std::string name = memberVerifyName(c, m);
  std::lock_guard lock(tlsMutex_);
  Relay& r = relays_[c.meta.ns + "/" + m.name];
  if (!r.relay || r.relay->host() != target->host || r.relay->port() != target->port ||
      r.relay->caPem() != files->caPem || r.certPem != files->certPem) {
    r.relay.reset();  // its port is free again before the new one listens
    r.relay = std::make_unique<relay::TlsRelay>(target->host, target->port, *files, name);
    r.certPem = files->certPem;
  }
  return SrvrTarget{"127.0.0.1", r.relay->localPort()};
}

CaBundle KubeBackend::clusterCa(const ZkCluster& c) {
  // The operator's own Secret: its CA, or its copy of the one tls.caSecretRef names; either way
  // with the state of a rotation (render/ca_rotation.h).
  std::string name = operatorCaSecretName(c);
  auto files = secretFiles(client_, c.meta.ns, name);
  std::optional<CaBundle> stored = files ? caBundleOf(*files) : std::nullopt;
  if (files && !stored) {
    throw Blocked({BlockCause::kSecretMissing,
                   "Secret " + c.meta.ns + "/" + name + " has no tls.crt and tls.key"});
  }
  std::int64_t now = unixSeconds();
  CaUpdate update;
  if (c.spec.tls.caSecretName) {
    UserCa user = userCaFromSecret(c, secretReader(client_, c.meta.ns), now);
    update = followUserCa(c, stored, user.ca, user.where, now);
  } else {
    update = updateOperatorCa(c, stored, now);
  }
  if (update.store) client_.apply(secretWith(c, name, caSecretFiles(update.step.bundle)));
  if (!update.step.reason.empty()) {
    emitEvent(c, {false, update.step.reason, update.step.message});
  }
  return update.step.bundle;
}

void KubeBackend::applyTlsSecrets(const ZkCluster& c, Membership m) {
  std::vector<value> certificates;
  if (c.spec.tls.enabled() && c.spec.tls.source == CertificateSource::kCertManager) {
    for (const Member& member : members(c, m)) {
      certificates.push_back(memberCertificate(c, member, options_.addressing.clusterDomain));
    }
  }
  for (const value& certificate : certificates) applyOrBlock(certificate);
  deleteUnwanted(c, "cert-manager.io/v1", "Certificate", certificates,
                 "its member left the ensemble, or spec.tls names no issuerRef");
  if (!c.spec.tls.enabled()) {
    deleteTlsLeftovers(c);
    return;
  }
  StringMap current = secretFiles(client_, c.meta.ns, tlsSecretName(c)).value_or(StringMap{});
  StringMap files;
  if (c.spec.tls.source != CertificateSource::kOperator) {
    std::vector<Member> ms = members(c, m);
    // ZooKeeper's PEM key store is the key and the certificate in one file: the user's or
    // cert-manager's Secrets are copied into the members' one in that layout, on every change.
    files = keystoresOf(ms, providedCertificates(c, ms));
  } else {
    CaBundle ca = clusterCa(c);
    files = memberKeystores(c, members(c, m), ca.current, current, unixSeconds(),
                            options_.addressing.clusterDomain);
    files["ca.crt"] = ca.trustBundle();
  }
  if (files == current) return;
  client_.apply(secretWith(c, tlsSecretName(c), files));
  reportIssued(c, current, files);
}

void KubeBackend::deleteTlsLeftovers(const ZkCluster& c) {
  value found = client_.list(resourcePath("v1", "Secret", c.meta.ns), clusterLabelSelector(c));
  std::vector<std::string> leftovers = tlsSecretsToDelete(c, found.at("items"));
  if (leftovers.empty()) return;  // the usual case: nothing made for TLS, or gone already
  bool mounted = false;
  value pods = listPods(c);  // kept: the loop runs over a part of it
  for (const value& pod : pods.at("items").as_array()) mounted |= podMountsTls(c, pod);
  // A pod made from a template that still mounts them would need them too.
  for (const std::string& name : {voterSetName(c), observerSetName(c)}) {
    auto set = client_.getIfExists(resourcePath("apps/v1", "StatefulSet", c.meta.ns, name));
    if (set && set->has_object_field("spec") && set->at("spec").has_object_field("template")) {
      mounted |= podMountsTls(c, set->at("spec").at("template"));
    }
  }
  if (!tlsLeftoversUnused(c, mounted)) return;
  for (const std::string& name : leftovers) {
    if (client_.remove(resourcePath("v1", "Secret", c.meta.ns, name))) {
      emitEvent(c,
                {false, "ObjectDeleted",
                 "Secret " + name + " deleted: spec.tls is off and no member mounts it any more"});
    }
  }
  std::lock_guard lock(tlsMutex_);
  operatorCertificates_.erase(c.meta.ns + "/" + c.meta.name);
}

std::map<std::string, ProvidedCertificate> KubeBackend::providedCertificates(
    const ZkCluster& c, const std::vector<Member>& ms) {
  bool certManager = c.spec.tls.source == CertificateSource::kCertManager;
  bool oneForAll = !certManager && !c.spec.tls.secretPerMember;
  std::map<std::string, ProvidedCertificate> out;
  std::optional<StringMap> shared;
  for (const Member& m : ms) {
    std::string name = certManager ? memberCertificateName(m)
                       : oneForAll ? *c.spec.tls.secretName
                                   : *c.spec.tls.secretName + "-" + m.name;
    std::string where = "Secret " + c.meta.ns + "/" + name +
                        (certManager ? " (of cert-manager Certificate " + name + ")"
                                     : std::string(" (spec.tls.secretRef)"));
    std::optional<StringMap> files =
        oneForAll && shared ? shared : secretFiles(client_, c.meta.ns, name);
    if (oneForAll) shared = files;
    if (!files) {
      throw Blocked({BlockCause::kSecretMissing,
                     where + (certManager ? " does not exist yet: cert-manager has not issued it"
                                          : " does not exist")});
    }
    for (const char* key : {"tls.crt", "tls.key", "ca.crt"}) {
      if (!files->contains(key)) {
        throw Blocked({BlockCause::kSecretMissing, where + " has no " + key});
      }
    }
    ProvidedCertificate p{(*files)["tls.crt"], (*files)["tls.key"], (*files)["ca.crt"]};
    std::string problem = certificateProblem(c, m, p, unixSeconds());
    if (!problem.empty()) throw Blocked({BlockCause::kCertificateInvalid, where + ": " + problem});
    out[m.name] = std::move(p);
  }
  return out;
}

StringMap KubeBackend::keystoresOf(const std::vector<Member>& ms,
                                   const std::map<std::string, ProvidedCertificate>& given) {
  StringMap files;
  std::string trusted;  // every CA a member's Secret names, once each
  for (const Member& m : ms) {
    const ProvidedCertificate& p = given.at(m.name);
    if (trusted.find(p.caPem) == std::string::npos) trusted += p.caPem;
    files[keystoreFileName(m)] = p.keyPem + p.certPem;
  }
  files["ca.crt"] = trusted;
  return files;
}

std::optional<TlsObservation> KubeBackend::tlsObservation(const ZkCluster& c) {
  if (!c.spec.tls.enabled() || c.status.voters == 0) return std::nullopt;
  auto files = secretFiles(client_, c.meta.ns, tlsSecretName(c));
  if (!files) return std::nullopt;  // not issued yet: the first apply makes it
  TlsEvidence evidence;
  evidence.caPem = (*files)["ca.crt"];
  evidence.operatorRenews = c.spec.tls.source != CertificateSource::kSecret;
  std::vector<Member> ms = members(c, {c.status.voters, c.status.observers});
  for (const Member& m : ms) {
    auto it = files->find(keystoreFileName(m));
    if (it != files->end()) evidence.members[m.name] = it->second;
  }
  TlsObservation observed = observeTls(c, ms, evidence, unixSeconds());
  if (c.spec.tls.source == CertificateSource::kOperator) {
    auto ca = secretFiles(client_, c.meta.ns, operatorCaSecretName(c));
    if (auto bundle = ca ? caBundleOf(*ca) : std::nullopt) {
      observed.status.caRotation = std::string(caRotationPhaseName(bundle->phase()));
    }
  }
  return observed;
}

void KubeBackend::reportIssued(const ZkCluster& c, const StringMap& before,
                               const StringMap& after) {
  std::string renewed, issued;
  std::int64_t next = 0;
  for (const auto& [file, text] : after) {
    if (file == "ca.crt") continue;
    std::int64_t due = inspectCertificate(text).notAfter - c.spec.tls.renewBeforeSeconds;
    next = next == 0 ? due : std::min(next, due);
    auto was = before.find(file);
    if (was != before.end() && was->second == text) continue;
    std::string name = file.substr(0, file.size() - 4);  // without ".pem"
    std::string& list = was == before.end() ? issued : renewed;
    list += (list.empty() ? "" : ", ") + name;
  }
  if (renewed.empty() && issued.empty()) return;
  std::string now = rfc3339(unixSeconds());
  if (c.spec.tls.source != CertificateSource::kOperator) {
    bool certManager = c.spec.tls.source == CertificateSource::kCertManager;
    std::string all = renewed + (renewed.empty() || issued.empty() ? "" : ", ") + issued;
    emitEvent(
        c,
        {false, "CertificatesUpdated",
         "copied the certificates of " + all +
             (certManager ? " from cert-manager's Secrets at " : " from spec.tls.secretRef at ") +
             now + "; the first is due for " +
             (certManager ? "renewal by cert-manager at " : "replacement at ") + rfc3339(next)});
    return;
  }
  std::string what = !renewed.empty() ? "renewed the certificates of " + renewed : "";
  if (!issued.empty()) what += (what.empty() ? "issued certificates for " : "; issued ") + issued;
  emitEvent(c, {false, renewed.empty() ? "CertificatesIssued" : "CertificatesRenewed",
                what + " at " + now + "; the next renewal is due at " + rfc3339(next)});
}
}  // namespace zk::op::kube

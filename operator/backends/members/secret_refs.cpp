#include "backends/members/secret_refs.h"

#include <vector>

#include "render/certificates.h"
#include "render/render.h"

namespace zk::op {
namespace {

// `kind` is "Secret" or "ConfigMap", as messages name the object.
std::string requiredValue(const char* kind, const SecretReader& read, const SecretKeyRef& ref,
                          const std::string& field) {
  SecretRead found = read(ref);
  std::string where = std::string(kind) + " " + found.shownAs + " (" + field + ")";
  std::string hint = found.hint.empty() ? "" : " (" + found.hint + ")";
  if (!found.exists) {
    throw Blocked({BlockCause::kSecretMissing,
                   where + " does not exist; its key \"" + ref.key + "\" is wanted" + hint});
  }
  if (!found.value || found.value->empty()) {
    throw Blocked({BlockCause::kSecretMissing, where + " has no key \"" + ref.key + "\"" + hint});
  }
  return *found.value;
}

}  // namespace

std::string requiredSecretValue(const SecretReader& read, const SecretKeyRef& ref,
                                const std::string& field) {
  return requiredValue("Secret", read, ref, field);
}

std::string saslJaasFromSecrets(const ZkCluster& c, const std::string& operatorPassword,
                                const SecretReader& read) {
  if (!c.spec.auth.sasl) return "";
  std::vector<SaslCredential> users{{kOperatorSaslUser, operatorPassword}};
  for (const SaslUser& u : c.spec.auth.users) {
    std::string field = "spec.auth.sasl.users[" + u.name + "].passwordSecretRef";
    users.push_back({u.name, requiredSecretValue(read, u.passwordSecretRef, field)});
  }
  return renderJaas(users);
}

std::string quorumDigestJaas(const ZkCluster& c, const SecretReader& read,
                             const std::function<std::string()>& generated) {
  if (!rendersQuorumDigest(c)) return "";
  const auto& ref = c.spec.auth.quorum.passwordSecretRef;
  return renderQuorumDigestJaas(
      ref ? requiredSecretValue(read, *ref, "spec.auth.quorum.passwordSecretRef") : generated());
}

std::string kerberosKeytabFromSecrets(const ZkCluster& c, const SecretReader& read) {
  if (!c.spec.auth.kerberos) return "";
  return requiredSecretValue(read, c.spec.auth.kerberos->keytabSecretRef,
                             "spec.auth.kerberos.keytabSecretRef");
}

std::string kerberosKrb5Config(const ZkCluster& c, const ConfigMapReader& read) {
  if (!c.spec.auth.kerberos || !c.spec.auth.kerberos->krb5ConfigRef) return "";
  return requiredValue("ConfigMap", read, *c.spec.auth.kerberos->krb5ConfigRef,
                       "spec.auth.kerberos.krb5ConfigRef");
}

namespace {

void addTlsSecrets(const ZkCluster& c, std::set<std::string>& secrets) {
  const TlsSpec& tls = c.spec.tls;
  if (!tls.enabled()) return;
  // Members leaving by a scale-down still run on their certificates until they are gone.
  Membership m{std::max(c.spec.voters, c.status.voters),
               std::max(c.spec.observers, c.status.observers)};
  switch (tls.source) {
    case CertificateSource::kOperator:
      // The operator's own CA and certificates change only by its own writes.
      if (tls.caSecretName) secrets.insert(*tls.caSecretName);
      break;
    case CertificateSource::kCertManager:
      for (const Member& member : members(c, m)) secrets.insert(memberCertificateName(member));
      break;
    case CertificateSource::kSecret:
      if (!tls.secretName) break;
      if (!tls.secretPerMember) secrets.insert(*tls.secretName);
      for (const Member& member : members(c, m)) {
        if (tls.secretPerMember) secrets.insert(*tls.secretName + "-" + member.name);
      }
      break;
  }
}

}  // namespace

ReferencedObjects referencedObjects(const ZkCluster& c) {
  ReferencedObjects refs;
  refs.secrets.insert(c.spec.superUserSecret ? c.spec.superUserSecret->name
                                             : generatedSuperSecretName(c));
  for (const SaslUser& u : c.spec.auth.users) refs.secrets.insert(u.passwordSecretRef.name);
  if (const auto& quorum = c.spec.auth.quorum.passwordSecretRef) refs.secrets.insert(quorum->name);
  if (const auto& kerberos = c.spec.auth.kerberos) {
    refs.secrets.insert(kerberos->keytabSecretRef.name);
    if (kerberos->krb5ConfigRef) refs.configMaps.insert(kerberos->krb5ConfigRef->name);
  }
  addTlsSecrets(c, refs.secrets);
  return refs;
}

UserCa userCaFromSecret(const ZkCluster& c, const SecretReader& read, std::int64_t now) {
  const std::string& name = c.spec.tls.caSecretName.value();
  const std::string field = "spec.tls.caSecretRef";
  SecretRead found = read({name, "tls.crt"});
  std::string where = "Secret " + found.shownAs + " (" + field + ")";
  if (name == operatorCaSecretName(c)) {
    throw Blocked({BlockCause::kCertificateInvalid,
                   where + ": that name is the operator's own CA Secret; put the CA in another"});
  }
  // Secrets lose a PEM file's last newline on the way (kube: secretValue; local: the reader).
  KeyPair ca{requiredSecretValue(read, {name, "tls.key"}, field) + "\n",
             requiredSecretValue(read, {name, "tls.crt"}, field) + "\n"};
  if (std::string problem = caProblem(ca, now); !problem.empty()) {
    throw Blocked({BlockCause::kCertificateInvalid, where + ": " + problem});
  }
  return {std::move(ca), std::move(where)};
}

}  // namespace zk::op

#include "backends/members/secret_refs.h"

#include <vector>

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
  if (renderedQuorumSaslStage(c) == QuorumSaslStage::kOff || c.spec.auth.kerberos) return "";
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

}  // namespace zk::op

#include "backends/members/secret_refs.h"

#include <vector>

#include "render/render.h"

namespace zk::op {

std::string requiredSecretValue(const SecretReader& read, const SecretKeyRef& ref,
                                const std::string& field) {
  SecretRead found = read(ref);
  std::string where = "Secret " + found.shownAs + " (" + field + ")";
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

std::string kerberosKeytabFromSecrets(const ZkCluster& c, const SecretReader& read) {
  if (!c.spec.auth.kerberos) return "";
  return requiredSecretValue(read, c.spec.auth.kerberos->keytabSecretRef,
                             "spec.auth.kerberos.keytabSecretRef");
}

}  // namespace zk::op

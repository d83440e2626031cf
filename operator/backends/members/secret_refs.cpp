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
  if (c.spec.auth.kerberos) {
    // Rendered (render.h) but not yet carried out: the keytab's mount and each member's
    // JAAS file. Said, rather than members started without the login they were asked for.
    throw Blocked(
        {BlockCause::kInvalidConfig,
         "spec.auth.kerberos is not carried out by this operator yet (the keytab Secret's "
         "mount and each member's JAAS file); remove it, or use auth.sasl"});
  }
  if (!c.spec.auth.sasl) return "";
  std::vector<SaslCredential> users{{kOperatorSaslUser, operatorPassword}};
  for (const SaslUser& u : c.spec.auth.users) {
    std::string field = "spec.auth.sasl.users[" + u.name + "].passwordSecretRef";
    users.push_back({u.name, requiredSecretValue(read, u.passwordSecretRef, field)});
  }
  return renderJaas(users);
}

}  // namespace zk::op

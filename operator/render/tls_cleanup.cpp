#include "render/tls_cleanup.h"

#include <algorithm>

#include "render/certificates.h"
#include "render/render.h"

namespace zk::op {

using web::json::value;

bool tlsLeftoversUnused(const ZkCluster& c, bool membersUseTls) {
  return !c.spec.tls.enabled() && c.status.quorumTls.stage == QuorumTlsStage::kPlaintext &&
         !membersUseTls;
}

bool podMountsTls(const ZkCluster& c, const value& pod) {
  if (!pod.has_object_field("spec") || !pod.at("spec").has_array_field("volumes")) return false;
  for (const value& v : pod.at("spec").at("volumes").as_array()) {
    if (v.has_object_field("secret") && v.at("secret").has_string_field("secretName") &&
        v.at("secret").at("secretName").as_string() == tlsSecretName(c)) {
      return true;
    }
  }
  return false;
}

std::vector<std::string> tlsSecretsToDelete(const ZkCluster& c, const value& found) {
  std::vector<std::string> made{operatorCaSecretName(c), tlsSecretName(c)};
  std::erase_if(made, [&](const std::string& name) {
    const TlsSpec& tls = c.spec.tls;
    return name == tls.caSecretName || (tls.secretName && name.starts_with(*tls.secretName));
  });
  // Everything the cluster owns but these counts as wanted, so only these can be unwanted.
  std::vector<value> kept;
  for (const value& item : found.as_array()) {
    std::string name = item.at("metadata").at("name").as_string();
    if (std::find(made.begin(), made.end(), name) == made.end()) kept.push_back(item);
  }
  return unwantedOwned(c, found, kept);
}

}  // namespace zk::op

#pragma once
// The Secrets a ZkCluster's spec names, read through whichever backend runs it: Kubernetes reads
// the API, local mode the files laid out as a Secret volume (<state-dir>/secrets/<name>/<key>).
// Both report a missing Secret or key the same way: Blocked (SecretMissing), naming the Secret,
// the field that refers to it and the key, so the status and the Warning Event read alike.

#include <functional>
#include <optional>
#include <set>
#include <string>

#include "model/zk_cluster.h"
#include "plan/plan.h"
#include "render/certificates.h"

namespace zk::op {

// One key of a Secret as a backend found it.
struct SecretRead {
  std::string shownAs;  // how messages name the Secret: "<namespace>/<name>", or local's name
  bool exists = false;  // the Secret itself (local: its directory)
  std::optional<std::string> value;  // nullopt (or empty): the Secret has no such key
  std::string hint;                  // appended to a message when not empty (local: the path)
};
using SecretReader = std::function<SecretRead(const SecretKeyRef& ref)>;
// ConfigMaps are read alike (local: <state-dir>/configmaps/<name>/<key>).
using ConfigMapReader = SecretReader;

// The key's value; throws Blocked (SecretMissing) when the Secret or the key is missing or
// empty. `field` is the spec field that names the Secret ("spec.superUserSecret").
std::string requiredSecretValue(const SecretReader& read, const SecretKeyRef& ref,
                                const std::string& field);

// spec.auth.sasl's JAAS file: the operator's own user (with `operatorPassword`) and every user
// with the password its Secret holds; "" without spec.auth.sasl. Throws Blocked (SecretMissing)
// naming the user.
std::string saslJaasFromSecrets(const ZkCluster& c, const std::string& operatorPassword,
                                const SecretReader& read);

// spec.auth.quorum's DIGEST-MD5 sections (renderQuorumDigestJaas) while the members are rendered
// at a stage other than Off, with the password of passwordSecretRef, or without one what
// `generated` returns (the password the operator keeps for the cluster); "" otherwise, and with
// Kerberos (each member's own JAAS file has its sections). Throws Blocked (SecretMissing).
std::string quorumDigestJaas(const ZkCluster& c, const SecretReader& read,
                             const std::function<std::string()>& generated);

// spec.auth.kerberos's keytab (its bytes, as the Secret holds them); "" without it. Throws
// Blocked (SecretMissing) naming the Secret and its key.
std::string kerberosKeytabFromSecrets(const ZkCluster& c, const SecretReader& read);

// spec.auth.kerberos.krb5ConfigRef's krb5.conf; "" without it. Throws Blocked (SecretMissing,
// the reason a missing keytab gets too) naming the ConfigMap and its key.
std::string kerberosKrb5Config(const ZkCluster& c, const ConfigMapReader& read);

// The names (in the cluster's namespace) of every Secret and ConfigMap that the cluster's members
// or the operator read for it: a change to any of them must reach the cluster at once, not on the
// next resync. It covers the super user's Secret, spec.auth's password Secrets (quorum's too),
// keytab and krb5.conf, and spec.tls's CA, certificate and cert-manager Secrets, for every member
// that is or will be in the ensemble.
struct ReferencedObjects {
  std::set<std::string> secrets;
  std::set<std::string> configMaps;
};
ReferencedObjects referencedObjects(const ZkCluster& c);
// spec.tls.caSecretRef's CA (tls.crt, tls.key), checked at `now` (caProblem), and how messages
// name its Secret ("Secret <ns>/<name> (spec.tls.caSecretRef)"). Throws Blocked: SecretMissing
// naming the Secret or its key; CertificateInvalid naming the Secret and what is wrong, or when
// it is the operator's own CA Secret, which holds the operator's copy and the rotation's state.
struct UserCa {
  KeyPair ca;
  std::string where;
};
UserCa userCaFromSecret(const ZkCluster& c, const SecretReader& read, std::int64_t now);

}  // namespace zk::op

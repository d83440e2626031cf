#pragma once
// What the operator made for TLS goes once a cluster is back to plaintext: its CA (or its copy of
// the user's, with the rotation's state) and the members' keystores, in Secrets (Kubernetes) or
// files (local mode). Never before no member runs with them, and never what the user named.

#include <cpprest/json.h>

#include <string>
#include <vector>

#include "model/zk_cluster.h"

namespace zk::op {

// TLS is off for good: spec.tls.client is off and the quorum is back to plaintext
// (status.quorumTLS.stage), and `membersUseTls` is false: no member runs with the files any more
// (no pod mounts the members' TLS Secret; locally no member's zoo.cfg names a keystore).
bool tlsLeftoversUnused(const ZkCluster& c, bool membersUseTls);

// Whether `pod` mounts the members' TLS Secret (tlsSecretName).
bool podMountsTls(const ZkCluster& c, const web::json::value& pod);

// The Secrets of `found` (a List's items) to delete once tlsLeftoversUnused: the operator's CA
// Secret and the members' one, when the cluster owns them (unwantedOwned's rule) and the spec
// does not name them (caSecretRef, secretRef).
std::vector<std::string> tlsSecretsToDelete(const ZkCluster& c, const web::json::value& found);

}  // namespace zk::op

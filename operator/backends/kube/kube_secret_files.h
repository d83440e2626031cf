#pragma once
// Secrets as the files they hold: shared by the backend (the super user's password) and its TLS
// side (kube_tls.cpp: the CA, the members' keystores, the relay's certificate).

#include <cpprest/json.h>

#include <cstdint>
#include <optional>
#include <string>

#include "backends/members/secret_refs.h"
#include "kube/kube_client.h"
#include "model/zk_cluster.h"

namespace zk::op::kube {

// A Secret's value, decoded, without its trailing newlines; nullopt when the key is absent.
std::optional<std::string> secretValue(const web::json::value& secret, const std::string& key);
// A Secret's data as text, each file ending in a newline; nullopt when the Secret does not exist.
std::optional<StringMap> secretFiles(KubeClient& client, const std::string& ns,
                                     const std::string& name);
// An Opaque Secret of the cluster (its labels and owner) holding these files.
web::json::value secretWith(const ZkCluster& c, const std::string& name, const StringMap& files);
std::int64_t unixSeconds();
// The spec's Secrets as the API server holds them, in the cluster's namespace.
SecretReader secretReader(KubeClient& client, const std::string& ns);

}  // namespace zk::op::kube

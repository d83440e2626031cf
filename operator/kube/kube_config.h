#pragma once
// Where the Kubernetes API server is and how to authenticate to it: from a kubeconfig file (out of
// the cluster) or from the pod's service account (in the cluster).

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace zk::op::kube {

struct KubeConfig {
  std::string server;  // https://host:port (or http:// for a local stand-in)
  std::string token;   // bearer token; empty: none
  // Where the token came from. Service account tokens are rotated by the kubelet (bound tokens
  // expire after about an hour), so the client reads the file again every minute.
  std::filesystem::path tokenFile;
  std::string caPem;    // CA bundle the server's certificate must chain to; empty: system store
  std::string certPem;  // client certificate and key, PEM; both or neither
  std::string keyPem;
  bool insecureSkipTlsVerify = false;
  std::string ns = "default";  // the context's namespace (in-cluster: the pod's namespace)
};

// Parses kubeconfig YAML; relative file paths resolve against `baseDir` (the file's folder, as
// kubectl does). Uses `context`, or the file's current-context. Throws std::runtime_error naming
// what is missing.
KubeConfig parseKubeconfig(std::string_view yaml, const std::filesystem::path& baseDir,
                           const std::string& context = {});
KubeConfig loadKubeconfig(const std::filesystem::path& file, const std::string& context = {});

// The service account's token, CA and namespace under `saDir`, the server from
// KUBERNETES_SERVICE_HOST/PORT. nullopt when not running in a pod.
std::optional<KubeConfig> inClusterConfig(
    const std::filesystem::path& saDir = "/var/run/secrets/kubernetes.io/serviceaccount");

}  // namespace zk::op::kube

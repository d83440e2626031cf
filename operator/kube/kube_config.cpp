#include "kube/kube_config.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace zk::op::kube {
namespace {

namespace fs = std::filesystem;

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("kubeconfig: cannot read " + path.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string base64Decode(std::string_view in) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (char ch : in) {
    if (ch == '=' || ch == '\n' || ch == '\r' || ch == ' ') continue;
    auto pos = kAlphabet.find(ch);
    if (pos == std::string_view::npos) throw std::runtime_error("kubeconfig: bad base64 data");
    buffer = (buffer << 6) | static_cast<unsigned>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  return out;
}

// A kubeconfig names things in lists of {name, <kind>: {...}}.
YAML::Node findNamed(const YAML::Node& list, const std::string& name, const char* kind) {
  if (list.IsSequence()) {
    for (const YAML::Node& entry : list) {
      if (entry["name"] && entry["name"].as<std::string>() == name) return entry[kind];
    }
  }
  throw std::runtime_error(std::string("kubeconfig: no ") + kind + " named '" + name + "'");
}

// "<field>-data" carries base64 inline; "<field>" a path relative to the kubeconfig.
std::string pemOf(const YAML::Node& node, const std::string& field, const fs::path& baseDir) {
  if (node[field + "-data"]) return base64Decode(node[field + "-data"].as<std::string>());
  if (!node[field]) return {};
  fs::path path = node[field].as<std::string>();
  return readFile(path.is_absolute() ? path : baseDir / path);
}

}  // namespace

KubeConfig parseKubeconfig(std::string_view yaml, const fs::path& baseDir,
                           const std::string& context) {
  YAML::Node root = YAML::Load(std::string(yaml));
  std::string name = context;
  if (name.empty() && root["current-context"]) name = root["current-context"].as<std::string>();
  if (name.empty()) throw std::runtime_error("kubeconfig: no current-context and none given");
  YAML::Node ctx = findNamed(root["contexts"], name, "context");
  if (!ctx || !ctx["cluster"]) throw std::runtime_error("kubeconfig: context without cluster");
  YAML::Node cluster = findNamed(root["clusters"], ctx["cluster"].as<std::string>(), "cluster");
  KubeConfig cfg;
  if (!cluster || !cluster["server"])
    throw std::runtime_error("kubeconfig: cluster without server");
  cfg.server = cluster["server"].as<std::string>();
  while (cfg.server.ends_with('/')) cfg.server.pop_back();
  cfg.caPem = pemOf(cluster, "certificate-authority", baseDir);
  if (cluster["insecure-skip-tls-verify"]) {
    cfg.insecureSkipTlsVerify = cluster["insecure-skip-tls-verify"].as<bool>();
  }
  if (ctx["namespace"]) cfg.ns = ctx["namespace"].as<std::string>();
  if (ctx["user"]) {
    YAML::Node user = findNamed(root["users"], ctx["user"].as<std::string>(), "user");
    if (user && user["token"]) cfg.token = user["token"].as<std::string>();
    if (user && user["tokenFile"]) {
      fs::path p = user["tokenFile"].as<std::string>();
      cfg.tokenFile = p.is_absolute() ? p : baseDir / p;
      cfg.token = readFile(cfg.tokenFile);
    }
    if (user) {
      cfg.certPem = pemOf(user, "client-certificate", baseDir);
      cfg.keyPem = pemOf(user, "client-key", baseDir);
    }
  }
  while (!cfg.token.empty() && (cfg.token.back() == '\n' || cfg.token.back() == '\r')) {
    cfg.token.pop_back();
  }
  if (cfg.certPem.empty() != cfg.keyPem.empty()) {
    throw std::runtime_error("kubeconfig: a client certificate needs its key and the other way");
  }
  return cfg;
}

KubeConfig loadKubeconfig(const fs::path& file, const std::string& context) {
  return parseKubeconfig(readFile(file), fs::absolute(file).parent_path(), context);
}

std::optional<KubeConfig> inClusterConfig(const fs::path& saDir) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (!host || !port || !fs::exists(saDir / "token")) return std::nullopt;
  KubeConfig cfg;
  std::string h = host;
  // An IPv6 service address needs brackets in a URL.
  if (h.find(':') != std::string::npos) h = "[" + h + "]";
  cfg.server = "https://" + h + ":" + port;
  cfg.tokenFile = saDir / "token";
  cfg.token = readFile(cfg.tokenFile);
  while (!cfg.token.empty() && cfg.token.back() == '\n') cfg.token.pop_back();
  if (fs::exists(saDir / "ca.crt")) cfg.caPem = readFile(saDir / "ca.crt");
  if (fs::exists(saDir / "namespace")) cfg.ns = readFile(saDir / "namespace");
  return cfg;
}

}  // namespace zk::op::kube

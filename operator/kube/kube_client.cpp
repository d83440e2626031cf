#include "kube/kube_client.h"

#include <cpprest/containerstream.h>
#include <boost/asio/ssl.hpp>

#include <fstream>
#include <iterator>
#include <map>

#include <utility>
#include "render/render.h"

namespace zk::op::kube {
namespace {

using web::json::value;
namespace http = web::http;

struct KindInfo {
  const char* plural;
  bool namespaced;
};

// The kinds the operator reads or writes.
const std::map<std::pair<std::string, std::string>, KindInfo, std::less<>>& kinds() {
  static const std::map<std::pair<std::string, std::string>, KindInfo, std::less<>> table = {
      {{"v1", "Pod"}, {"pods", true}},
      {{"v1", "Service"}, {"services", true}},
      {{"v1", "ConfigMap"}, {"configmaps", true}},
      {{"v1", "Event"}, {"events", true}},
      {{"v1", "Secret"}, {"secrets", true}},
      {{"v1", "PersistentVolumeClaim"}, {"persistentvolumeclaims", true}},
      {{"apps/v1", "StatefulSet"}, {"statefulsets", true}},
      {{"policy/v1", "PodDisruptionBudget"}, {"poddisruptionbudgets", true}},
      {{"coordination.k8s.io/v1", "Lease"}, {"leases", true}},
      {{"zookube.dev/v1alpha1", "ZkCluster"}, {"zkclusters", true}},
      {{"cert-manager.io/v1", "Certificate"}, {"certificates", true}},
      {{"networking.k8s.io/v1", "NetworkPolicy"}, {"networkpolicies", true}},
  };
  return table;
}

std::string urlEncode(std::string_view s) {
  return web::uri::encode_data_string(std::string(s));
}

// The Status body's message, or the raw text when the body is not a Status.
ApiError toError(int status, const std::string& text) {
  std::string reason = "Unknown", message = text;
  try {
    value v = value::parse(text);
    if (v.has_string_field("reason")) reason = v.at("reason").as_string();
    if (v.has_string_field("message")) message = v.at("message").as_string();
  } catch (const std::exception&) {
  }
  return ApiError(status, reason, "HTTP " + std::to_string(status) + " " + reason + ": " + message);
}

http::client::http_client_config clientConfig(const KubeConfig& cfg,
                                              std::chrono::milliseconds timeout) {
  http::client::http_client_config c;
  c.set_timeout(timeout);
  c.set_validate_certificates(!cfg.insecureSkipTlsVerify);
  KubeConfig tls = cfg;  // the callback outlives this call
  c.set_ssl_context_callback([tls](boost::asio::ssl::context& ctx) {
    if (!tls.caPem.empty()) ctx.add_certificate_authority(boost::asio::buffer(tls.caPem));
    if (!tls.certPem.empty()) {
      ctx.use_certificate_chain(boost::asio::buffer(tls.certPem));
      ctx.use_private_key(boost::asio::buffer(tls.keyPem), boost::asio::ssl::context::pem);
    }
  });
  return c;
}

}  // namespace

std::string resourcePath(std::string_view apiVersion, std::string_view kind, std::string_view ns,
                         std::string_view name, std::string_view subresource) {
  auto it = kinds().find(std::pair<std::string, std::string>(apiVersion, kind));
  if (it == kinds().end()) {
    throw std::invalid_argument("no REST mapping for " + std::string(apiVersion) + " " +
                                std::string(kind));
  }
  std::string path = apiVersion.find('/') == std::string_view::npos ? "/api/" : "/apis/";
  path += apiVersion;
  if (it->second.namespaced && !ns.empty()) path += "/namespaces/" + urlEncode(ns);
  path += std::string("/") + it->second.plural;
  if (!name.empty()) path += "/" + urlEncode(name);
  if (!subresource.empty()) path += "/" + std::string(subresource);
  return path;
}

std::string objectPath(const value& object, std::string_view subresource) {
  const value& meta = object.at("metadata");
  std::string ns = meta.has_string_field("namespace") ? meta.at("namespace").as_string() : "";
  return resourcePath(object.at("apiVersion").as_string(), object.at("kind").as_string(), ns,
                      meta.at("name").as_string(), subresource);
}

KubeClient::KubeClient(KubeConfig config, std::string userAgent, std::chrono::milliseconds timeout)
    : config_(std::move(config)),
      userAgent_(std::move(userAgent)),
      http_(config_.server, clientConfig(config_, timeout)) {}

http::http_request KubeClient::request(const http::method& method,
                                       const std::string& pathAndQuery) {
  http::http_request req(method);
  req.set_request_uri(pathAndQuery);
  req.headers().add("Accept", "application/json");
  req.headers().add("User-Agent", userAgent_);
  if (std::string bearer = token(); !bearer.empty()) {
    req.headers().add("Authorization", "Bearer " + bearer);
  }
  return req;
}

value KubeClient::send(const http::method& method, const std::string& pathAndQuery,
                       const std::optional<value>& body, const std::string& contentType) {
  http::http_request req = request(method, pathAndQuery);
  // JSON is YAML, so an apply patch is sent as JSON text under the apply content type.
  if (body) req.set_body(body->serialize(), contentType);
  http::http_response resp = http_.request(req).get();
  std::string text = resp.extract_utf8string(true).get();
  int status = resp.status_code();
  if (status >= 300) throw toError(status, text);
  if (text.empty()) return value::object();
  return value::parse(text);
}

std::string KubeClient::token() {
  std::lock_guard lock(tokenMutex_);
  auto now = std::chrono::steady_clock::now();
  if (config_.tokenFile.empty() || now - tokenRead_ < std::chrono::minutes(1)) return config_.token;
  tokenRead_ = now;
  std::ifstream in(config_.tokenFile, std::ios::binary);
  std::string fresh{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  while (!fresh.empty() && (fresh.back() == '\n' || fresh.back() == '\r')) fresh.pop_back();
  if (!fresh.empty()) config_.token = fresh;  // a file mid-rotation keeps the old token
  return config_.token;
}

value KubeClient::get(const std::string& path) {
  return send(http::methods::GET, path, std::nullopt, {});
}

std::optional<value> KubeClient::getIfExists(const std::string& path) {
  try {
    return get(path);
  } catch (const ApiError& e) {
    if (e.status() == 404) return std::nullopt;
    throw;
  }
}

value KubeClient::list(const std::string& path, const std::string& labelSelector,
                       const std::string& fieldSelector) {
  std::string query = labelSelector.empty() ? "" : "?labelSelector=" + urlEncode(labelSelector);
  if (!fieldSelector.empty()) {
    query += (query.empty() ? "?" : "&") + std::string("fieldSelector=") + urlEncode(fieldSelector);
  }
  return send(http::methods::GET, path + query, std::nullopt, {});
}

value KubeClient::create(const std::string& collectionPath, const value& object) {
  return send(http::methods::POST, collectionPath, object, "application/json");
}

value KubeClient::replace(const std::string& path, const value& object) {
  return send(http::methods::PUT, path, object, "application/json");
}

value KubeClient::apply(const value& object, std::string_view subresource) {
  std::string path =
      objectPath(object, subresource) + "?fieldManager=" + urlEncode(kFieldManager) + "&force=true";
  return send(http::methods::PATCH, path, object, "application/apply-patch+yaml");
}

void KubeClient::watch(const std::string& path, const std::string& labelSelector,
                       const std::string& resourceVersion, std::chrono::seconds timeoutSeconds,
                       const std::function<void(std::string_view line)>& onLine,
                       pplx::cancellation_token cancel) {
  std::string query =
      "?watch=1&allowWatchBookmarks=true&timeoutSeconds=" + std::to_string(timeoutSeconds.count()) +
      "&resourceVersion=" + urlEncode(resourceVersion);
  if (!labelSelector.empty()) query += "&labelSelector=" + urlEncode(labelSelector);
  // cpprest's timeout is for silence on the connection, so a watch gets a client of its own that
  // outwaits the server's end of the stream instead of the request timeout.
  KubeConfig config;
  {
    std::lock_guard lock(tokenMutex_);
    config = config_;
  }
  http::client::http_client watchHttp(
      config.server, clientConfig(config, timeoutSeconds + std::chrono::seconds(30)));
  // Leaving early (onLine threw) closes the connection rather than reading it to its end.
  auto source = pplx::cancellation_token_source::create_linked_source(cancel);
  struct CancelOnExit {
    pplx::cancellation_token_source& s;
    ~CancelOnExit() { s.cancel(); }
  } cancelOnExit{source};
  http::http_response resp =
      watchHttp.request(request(http::methods::GET, path + query), source.get_token()).get();
  if (resp.status_code() >= 300) {
    throw toError(resp.status_code(), resp.extract_utf8string(true).get());
  }
  // The response completes at the headers; the body keeps arriving, one event per line.
  concurrency::streams::istream body = resp.body();
  while (true) {
    concurrency::streams::container_buffer<std::string> line;
    size_t n = body.read_line(line).get();
    if (n > 0) onLine(line.collection());
    if (n == 0 && body.is_eof()) return;
  }
}

value KubeClient::mergePatch(const std::string& path, const value& patch) {
  return send(http::methods::PATCH, path, patch, "application/merge-patch+json");
}

bool KubeClient::remove(const std::string& path, std::string_view propagationPolicy) {
  std::string query;
  if (!propagationPolicy.empty()) query = "?propagationPolicy=" + urlEncode(propagationPolicy);
  try {
    send(http::methods::DEL, path + query, std::nullopt, {});
    return true;
  } catch (const ApiError& e) {
    if (e.status() == 404) return false;
    throw;
  }
}

}  // namespace zk::op::kube

#pragma once
// A small synchronous Kubernetes API client on cpprestsdk: JSON in and out, one request at a time.
//
// Writes use server-side apply (PATCH application/apply-patch+yaml, fieldManager=zookube-operator,
// force=true): the operator states the fields it owns and the API server merges, so a second
// apply of the same object changes nothing. watch() streams a watch's JSON lines; reflector.h
// turns them into a cache and work-queue keys.

#include <cpprest/http_client.h>
#include <cpprest/json.h>

#include <pplx/pplxcancellation_token.h>

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "kube/kube_config.h"

namespace zk::op::kube {

// A request the API server refused: its HTTP status and the Status body's reason and message.
class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string reason, const std::string& message)
      : std::runtime_error(message), status_(status), reason_(std::move(reason)) {}
  int status() const { return status_; }
  const std::string& reason() const { return reason_; }  // "NotFound", "Conflict", ...

 private:
  int status_;
  std::string reason_;
};

// The REST path of a kind: "/api/v1/namespaces/ns/pods/name", "/apis/apps/v1/...".
// `name` and `subresource` may be empty (collection / no subresource); an empty `ns` lists
// across namespaces. Throws std::invalid_argument for a kind it does not know.
std::string resourcePath(std::string_view apiVersion, std::string_view kind, std::string_view ns,
                         std::string_view name = {}, std::string_view subresource = {});

// The path of an object from its own apiVersion, kind, metadata.namespace and metadata.name.
std::string objectPath(const web::json::value& object, std::string_view subresource = {});

class KubeClient {
 public:
  // `userAgent` identifies this operator instance in the API server's logs.
  KubeClient(KubeConfig config, std::string userAgent,
             std::chrono::milliseconds timeout = std::chrono::seconds(10));

  const KubeConfig& config() const { return config_; }

  web::json::value get(const std::string& path);
  std::optional<web::json::value> getIfExists(const std::string& path);  // nullopt on 404
  // A List; `labelSelector` as in "app=x,role=y", `fieldSelector` as in "reason=FailedCreate".
  web::json::value list(const std::string& path, const std::string& labelSelector = {},
                        const std::string& fieldSelector = {});
  web::json::value create(const std::string& collectionPath, const web::json::value& object);
  // PUT: the object's metadata.resourceVersion makes it conditional (409 Conflict if stale).
  web::json::value replace(const std::string& path, const web::json::value& object);
  // Server-side apply of `object` (or its `subresource`, e.g. "status").
  web::json::value apply(const web::json::value& object, std::string_view subresource = {});
  // DELETE; false if it was already gone.
  // `propagationPolicy`: empty for the server's default, or "Orphan" to leave the dependents
  // (their ownerReferences to it are removed) — "Background" and "Foreground" work too.
  bool remove(const std::string& path, std::string_view propagationPolicy = {});
  // A JSON merge patch (RFC 7386): the fields in `patch` replace the object's, null removes.
  web::json::value mergePatch(const std::string& path, const web::json::value& patch);

  // A watch of the collection at `path` from `resourceVersion`, with bookmarks, that the server
  // ends after `timeoutSeconds`. Calls `onLine` with each line of the stream (one event, JSON)
  // and returns when the server ends the stream. Throws ApiError when the server refuses the
  // watch (410 Gone for a resourceVersion it no longer has), std::exception when the connection
  // fails or `cancel` is cancelled.
  void watch(const std::string& path, const std::string& labelSelector,
             const std::string& resourceVersion, std::chrono::seconds timeoutSeconds,
             const std::function<void(std::string_view line)>& onLine,
             pplx::cancellation_token cancel);

 private:
  web::json::value send(const web::http::method& method, const std::string& pathAndQuery,
                        const std::optional<web::json::value>& body,
                        const std::string& contentType);

  web::http::http_request request(const web::http::method& method, const std::string& pathAndQuery);
  std::string token();

  std::mutex tokenMutex_;  // workers, watches and the lease renewal share the client
  KubeConfig config_;
  std::chrono::steady_clock::time_point tokenRead_ = std::chrono::steady_clock::now();
  std::string userAgent_;
  web::http::client::http_client http_;
};

}  // namespace zk::op::kube

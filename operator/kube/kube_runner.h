#pragma once
// The Kubernetes mode's main loop, for zookube-operator (and zookube-kube-selftest): pick the
// API server's config, elect a leader if asked, reconcile, and stop cleanly on SIGTERM or SIGINT
// (giving the Lease up so a standby takes over at once).
//
// Two ways to reconcile: `watch` (the operator's) runs the watch-driven Controller while this
// replica leads, renewing the Lease every `interval`; otherwise (tests' `--passes`) every
// `interval` a pass lists and reconciles every ZkCluster.

#include <chrono>
#include <functional>
#include <string>

#include "backends/kube/kube_reconciler.h"
#include "kube/controller.h"

namespace zk::op::kube {

struct KubeRunOptions {
  std::string kubeconfig;  // empty: $KUBECONFIG, else the in-cluster service account
  std::string ns;          // empty: every namespace
  bool leaderElect = false;
  std::string identity;                      // empty: <hostname>-<pid>
  std::string leaseNamespace;                // empty: the config's namespace
  LeaseTimings lease;                        // client-go's defaults: 15 s, 10 s, 2 s
  bool watch = true;                         // false: relist and reconcile in passes
  std::chrono::milliseconds interval{2000};  // between passes (watching: lease.retryPeriod)
  int passes = 0;                            // 0: until a signal (watching: always)
  ControllerOptions controller;              // watching: workers, resync, backoff
  std::string srvrMap;                       // tests: JSON {"pod": "host:port"} instead of pod IPs
  std::string localAddressing;  // tests: members on loopback, pods' files under this dir (render.h)
  bool assumeAppliedMembership = false;  // tests: stand-in members that answer only srvr
  std::chrono::milliseconds probeTimeout{1000};
  std::chrono::milliseconds requestTimeout{10000};  // each API request, connect to last byte
  ClusterObserver onCluster;                        // metrics hook; may be empty
};

// Picks the API server's config as the options say; throws std::runtime_error if none is found.
KubeConfig chooseConfig(const KubeRunOptions& options);

// Returns 0 after `passes` passes or a signal, 1 if the last pass failed or setup failed (the
// reason is logged).
int runKubernetes(const KubeRunOptions& options, const Log& log);

// Ends the process with `code` after flushing stdout and stderr, without exit handlers: cpprest's
// pool threads may still be freeing a failed TLS connection, and OpenSSL's exit handler (which
// Boost.Asio registers when the library loads) would pull the locks from under them, leaving
// exit() joining a thread that never ends.
[[noreturn]] void exitAfterKubernetes(int code);

}  // namespace zk::op::kube

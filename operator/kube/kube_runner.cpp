#include "kube/kube_runner.h"

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <tuple>
#include <utility>

namespace zk::op::kube {
namespace {

using web::json::value;

// Pods to host:port from a file the tests rewrite as pods come and go.
AddressResolver mapResolver(std::string file) {
  return [file](const ZkCluster&, const Member& m, const value&) -> std::optional<SrvrTarget> {
    std::ifstream in(file);
    if (!in) return std::nullopt;
    std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    value map = value::parse(text);
    if (!map.has_string_field(m.name)) return std::nullopt;
    std::string hostPort = map.at(m.name).as_string();
    auto colon = hostPort.rfind(':');
    if (colon == std::string::npos) return std::nullopt;
    return SrvrTarget{hostPort.substr(0, colon), std::stoi(hostPort.substr(colon + 1))};
  };
}

std::string defaultIdentity() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return std::string(host) + "-" + std::to_string(::getpid());
}

// SIGTERM and SIGINT are blocked and taken with sigtimedwait, which doubles as the pause
// between passes: no handler, no global flag.
class Signals {
 public:
  Signals() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set_, &previous_);
  }
  ~Signals() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
  Signals(const Signals&) = delete;
  Signals& operator=(const Signals&) = delete;

  // True if a signal came within `wait`.
  bool wait(std::chrono::milliseconds wait) {
    timespec ts{static_cast<time_t>(wait.count() / 1000),
                static_cast<long>((wait.count() % 1000) * 1000000)};
    return sigtimedwait(&set_, nullptr, &ts) > 0;
  }

 private:
  sigset_t set_{}, previous_{};
};

// The controller's threads and the main loop log at once; one line must stay one line.
Log serialized(Log log) {
  return [mutex = std::make_shared<std::mutex>(), log = std::move(log)](const std::string& line) {
    std::lock_guard lock(*mutex);
    log(line);
  };
}

struct Setup {
  KubeClient& client;
  KubeBackend& backend;
  LeaderElector* elector;
};

// Passes: list and reconcile every cluster each `interval`. Returns whether the last pass failed
// and whether a signal ended it.
std::pair<bool, bool> runPasses(const KubeRunOptions& options, Setup s, Signals& signals,
                                const Log& log) {
  KubeReconciler reconciler(s.client, s.backend, options.ns, s.elector, log);
  if (options.onCluster) reconciler.onCluster(options.onCluster);
  bool ok = true;
  for (int n = 0; options.passes == 0 || n < options.passes; ++n) {
    if (n > 0 && signals.wait(options.interval)) return {ok, true};
    try {
      PassReport r = reconciler.pass();
      ok = r.failures == 0;
      log("pass " + std::to_string(n) + ": " + (r.leading ? "leading" : r.standby) + ", " +
          std::to_string(r.clusters) + " clusters, " + std::to_string(r.failures) + " failed");
    } catch (const std::exception& e) {
      ok = false;
      log("pass " + std::to_string(n) + " failed: " + e.what());
    }
  }
  return {ok, false};
}

// Watching: the controller runs while the Lease is ours; the main thread renews it every retry
// period. A renewal that has not succeeded within the renew deadline stops the controller (its
// in-flight reconcile is fenced: no further action), before any standby may take over.
void runWatching(const KubeRunOptions& options, Setup s, Signals& signals, const Log& log) {
  std::optional<Controller> controller;
  std::string said;
  auto period = s.elector ? options.lease.retryPeriod : options.interval;
  do {
    std::string now = "leading: watching and reconciling";
    if (s.elector) {
      auto attempt = s.elector->tryAcquireOrRenew();
      bool leading = s.elector->leading();
      if (!leading) {
        now = controller ? "leadership lost (" + describe(attempt) + "): stopping the controller"
                         : describe(attempt);
      } else if (attempt.outcome == LeaderElector::Outcome::kFailed) {
        now = "leading, but the last renewal failed: " + attempt.detail;
      }
    }
    if (now != said) log(now);
    said = now;
    bool leading = !s.elector || s.elector->leading();
    if (leading && !controller) {
      controller.emplace(s.client, s.backend, options.ns, options.controller, log,
                         options.onCluster);
    } else if (!leading && controller) {
      controller.reset();  // a replica that cannot renew must stop acting before it expires
    }
  } while (!signals.wait(period));
  log("stopping: waiting for the reconcile in progress");
}

}  // namespace

KubeConfig chooseConfig(const KubeRunOptions& options) {
  if (!options.kubeconfig.empty()) return loadKubeconfig(options.kubeconfig);
  if (const char* env = std::getenv("KUBECONFIG"); env && *env) {
    std::string first = env;  // a list of files: kubectl merges them; we take the first
    return loadKubeconfig(first.substr(0, first.find(':')));
  }
  if (auto in = inClusterConfig()) return *in;
  throw std::runtime_error(
      "no API server: not in a pod (KUBERNETES_SERVICE_HOST unset) and no --kubeconfig or "
      "KUBECONFIG");
}

int runKubernetes(const KubeRunOptions& options, const Log& unsafeLog) {
  Signals signals;
  Log log = serialized(unsafeLog);
  try {
    KubeConfig config = chooseConfig(options);
    std::string identity = options.identity.empty() ? defaultIdentity() : options.identity;
    KubeClient client(config, "zookube-operator/" + identity, options.requestTimeout);
    KubeBackendOptions backendOptions;
    backendOptions.probeTimeout = options.probeTimeout;
    backendOptions.assumeAppliedMembership = options.assumeAppliedMembership;
    if (!options.localAddressing.empty()) {
      backendOptions.addressing = Addressing::loopbackPods(options.localAddressing);
    }
    KubeBackend backend(client,
                        options.srvrMap.empty() ? podIpResolver() : mapResolver(options.srvrMap),
                        backendOptions);
    // The Lease's requests get a client of their own whose timeout lets a read and a write fit
    // in the renew deadline.
    std::optional<KubeClient> leaseClient;
    std::optional<LeaderElector> elector;
    if (options.leaderElect) {
      std::string leaseNs = options.leaseNamespace.empty() ? config.ns : options.leaseNamespace;
      leaseClient.emplace(config, "zookube-operator/" + identity,
                          std::min(options.requestTimeout, options.lease.renewDeadline / 2));
      elector.emplace(*leaseClient,
                      LeaseOptions{leaseNs, "zookube-operator", identity, options.lease});
    }
    log("zookube-operator: Kubernetes mode against " + config.server + ", " +
        (options.ns.empty() ? "every namespace" : "namespace " + options.ns) +
        (elector ? ", leader election as " + identity : "") +
        (options.watch ? ", watching" : ", relisting every pass"));
    Setup setup{client, backend, elector ? &*elector : nullptr};
    bool ok = true, stopped = true;
    if (options.watch) {
      runWatching(options, setup, signals, log);
    } else {
      std::tie(ok, stopped) = runPasses(options, setup, signals, log);
    }
    if (elector && (stopped || signals.wait(std::chrono::milliseconds(0)))) {
      log("stopping: giving the Lease up");
      elector->release();
    }
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    log(std::string("zookube-operator: ") + e.what());
    return 1;
  }
}

void exitAfterKubernetes(int code) {
  std::cout.flush();
  std::cerr.flush();
  std::_Exit(code);
}

}  // namespace zk::op::kube

#include "kube/kube_runner.h"

#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iterator>
#include <optional>

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

int runKubernetes(const KubeRunOptions& options, const Log& log) {
  Signals signals;
  try {
    KubeConfig config = chooseConfig(options);
    std::string identity = options.identity.empty() ? defaultIdentity() : options.identity;
    KubeClient client(config, "zookube-operator/" + identity, options.requestTimeout);
    KubeBackend backend(client,
                        options.srvrMap.empty() ? podIpResolver() : mapResolver(options.srvrMap),
                        options.probeTimeout);
    std::optional<LeaderElector> elector;
    if (options.leaderElect) {
      std::string leaseNs = options.leaseNamespace.empty() ? config.ns : options.leaseNamespace;
      elector.emplace(client, LeaseOptions{leaseNs, "zookube-operator", identity});
    }
    KubeReconciler reconciler(client, backend, options.ns, elector ? &*elector : nullptr, log);
    if (options.onCluster) reconciler.onCluster(options.onCluster);
    log("zookube-operator: Kubernetes mode against " + config.server + ", " +
        (options.ns.empty() ? "every namespace" : "namespace " + options.ns) +
        (elector ? ", leader election as " + identity : ""));
    bool ok = true, stopped = false;
    for (int n = 0; options.passes == 0 || n < options.passes; ++n) {
      if (n > 0 && signals.wait(options.interval)) {
        stopped = true;
        break;
      }
      try {
        PassReport r = reconciler.pass();
        ok = r.failures == 0;
        log("pass " + std::to_string(n) + ": " + (r.leading ? "leading" : "standby") + ", " +
            std::to_string(r.clusters) + " clusters, " + std::to_string(r.failures) + " failed");
      } catch (const std::exception& e) {
        ok = false;
        log("pass " + std::to_string(n) + " failed: " + e.what());
      }
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

}  // namespace zk::op::kube

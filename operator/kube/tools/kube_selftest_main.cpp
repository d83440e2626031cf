// zookube-kube-selftest: runs the Kubernetes mode's reconcile passes against an API server, for
// the tests in tests/kube (a stand-in API server) and for trying the operator by hand.
//   zookube-kube-selftest --kubeconfig FILE [--namespace NS] [--passes N] [--interval-ms MS]
//                         [--leader-elect --identity ID [--lease-namespace NS]]
//                         [--srvr-map FILE] [--probe-timeout-ms MS]
// --srvr-map names a JSON object {"pod": "host:port"} read on every pass: where to send `srvr`
// for each pod instead of its pod IP. Exits 0 after N passes (0: until SIGTERM), 1 if the last
// pass failed.
#include <csignal>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <thread>

#include "backends/kube/kube_reconciler.h"
#include "kube/kube_config.h"

namespace {

using namespace zk::op;
using namespace zk::op::kube;
using web::json::value;

volatile std::sig_atomic_t stopRequested = 0;

struct Options {
  std::string kubeconfig, ns, identity, leaseNs = "default", srvrMap;
  int passes = 1;
  int intervalMs = 200;
  int probeTimeoutMs = 500;
  bool leaderElect = false;
};

std::optional<Options> parseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    bool more = i + 1 < argc;
    if (arg == "--kubeconfig" && more)
      o.kubeconfig = argv[++i];
    else if (arg == "--namespace" && more)
      o.ns = argv[++i];
    else if (arg == "--passes" && more)
      o.passes = std::stoi(argv[++i]);
    else if (arg == "--interval-ms" && more)
      o.intervalMs = std::stoi(argv[++i]);
    else if (arg == "--probe-timeout-ms" && more)
      o.probeTimeoutMs = std::stoi(argv[++i]);
    else if (arg == "--leader-elect")
      o.leaderElect = true;
    else if (arg == "--identity" && more)
      o.identity = argv[++i];
    else if (arg == "--lease-namespace" && more)
      o.leaseNs = argv[++i];
    else if (arg == "--srvr-map" && more)
      o.srvrMap = argv[++i];
    else
      return std::nullopt;
  }
  if (o.kubeconfig.empty() || (o.leaderElect && o.identity.empty())) return std::nullopt;
  return o;
}

// Pods to loopback ports from a file the test rewrites as pods come and go.
AddressResolver mapResolver(std::string file) {
  return [file](const ZkCluster&, const Member& m, const value&) -> std::optional<SrvrTarget> {
    std::ifstream in(file);
    if (!in) return std::nullopt;
    std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    value map = value::parse(text);
    if (!map.has_string_field(m.name)) return std::nullopt;
    std::string hostPort = map.at(m.name).as_string();
    auto colon = hostPort.rfind(':');
    return SrvrTarget{hostPort.substr(0, colon), std::stoi(hostPort.substr(colon + 1))};
  };
}

}  // namespace

int main(int argc, char** argv) {
  auto options = parseArgs(argc, argv);
  if (!options) {
    std::cerr << "usage: zookube-kube-selftest --kubeconfig FILE [--namespace NS] [--passes N]\n"
                 "  [--interval-ms MS] [--leader-elect --identity ID [--lease-namespace NS]]\n"
                 "  [--srvr-map FILE] [--probe-timeout-ms MS]\n";
    return 64;
  }
  std::signal(SIGTERM, [](int) { stopRequested = 1; });
  std::signal(SIGINT, [](int) { stopRequested = 1; });
  try {
    std::string agent =
        "zookube-operator/" + (options->identity.empty() ? "selftest" : options->identity);
    KubeClient client(loadKubeconfig(options->kubeconfig), agent);
    KubeBackend backend(client,
                        options->srvrMap.empty() ? podIpResolver() : mapResolver(options->srvrMap),
                        std::chrono::milliseconds(options->probeTimeoutMs));
    std::optional<LeaderElector> elector;
    if (options->leaderElect) {
      elector.emplace(client,
                      LeaseOptions{options->leaseNs, "zookube-operator", options->identity});
    }
    auto log = [](const std::string& line) { std::cout << line << std::endl; };
    KubeReconciler reconciler(client, backend, options->ns, elector ? &*elector : nullptr, log);
    bool ok = true;
    for (int n = 0; (options->passes == 0 || n < options->passes) && !stopRequested; ++n) {
      if (n > 0) std::this_thread::sleep_for(std::chrono::milliseconds(options->intervalMs));
      try {
        PassReport r = reconciler.pass();
        ok = r.failures == 0;
        std::cout << "pass " << n << ": " << (r.leading ? "leading" : "standby") << ", "
                  << r.clusters << " clusters, " << r.failures << " failed" << std::endl;
      } catch (const std::exception& e) {
        ok = false;
        std::cout << "pass " << n << " failed: " << e.what() << std::endl;
      }
    }
    if (elector && stopRequested) elector->release();
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "zookube-kube-selftest: " << e.what() << "\n";
    return 1;
  }
}

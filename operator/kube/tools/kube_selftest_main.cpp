// zookube-kube-selftest: the Kubernetes mode's reconcile passes against an API server, for the
// tests in tests/kube (a stand-in API server) and for trying the operator by hand.
//   zookube-kube-selftest [--kubeconfig FILE] [--namespace NS] [--passes N] [--interval-ms MS]
//                         [--leader-elect --identity ID [--lease-namespace NS]
//                          [--lease-duration-ms MS] [--renew-deadline-ms MS] [--retry-period-ms
//                          MS]]
//                         [--srvr-map FILE] [--probe-timeout-ms MS] [--request-timeout-ms MS]
//                         [--local-addressing DIR] [--assume-applied-membership]
//                         [--watch [--resync-ms MS] [--watch-timeout-s S] [--wait-requeue-ms MS]
//                                  [--workers N]]
// --srvr-map names a JSON object {"pod": "host:port"} read on every pass: where to send `srvr`
// for each pod instead of its pod IP. --local-addressing renders members on 127.0.0.1 with every
// path a container reads under DIR/<pod>/root (tests/kube/kubelet.py runs real zookube-server
// processes for the pods, their volumes laid out there); --assume-applied-membership
// takes the ensemble's membership from the status instead of the leader's `conf`, for stand-in
// members that answer only srvr. Exits 0 after N passes (0: until SIGTERM), 1 if the last
// pass failed. --watch runs the operator's watch-driven controller until SIGTERM instead of
// passes. The Lease keeps client-go's timings (15 s lease, 10 s renew deadline, renewed every
// 2 s) unless a test that needs a quick takeover asks for shorter ones.
#include <iostream>
#include <optional>
#include <string>

#include "kube/kube_runner.h"

namespace {

using zk::op::kube::KubeRunOptions;

std::optional<KubeRunOptions> parseArgs(int argc, char** argv) {
  KubeRunOptions o;
  o.passes = 1;
  o.watch = false;
  o.interval = std::chrono::milliseconds(2000);
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    bool more = i + 1 < argc;
    if (arg == "--kubeconfig" && more) {
      o.kubeconfig = argv[++i];
    } else if (arg == "--namespace" && more) {
      o.ns = argv[++i];
    } else if (arg == "--passes" && more) {
      o.passes = std::stoi(argv[++i]);
    } else if (arg == "--interval-ms" && more) {
      o.interval = std::chrono::milliseconds(std::stoi(argv[++i]));
    } else if (arg == "--probe-timeout-ms" && more) {
      o.probeTimeout = std::chrono::milliseconds(std::stoi(argv[++i]));
    } else if (arg == "--request-timeout-ms" && more) {
      o.requestTimeout = std::chrono::milliseconds(std::stoi(argv[++i]));
    } else if (arg == "--leader-elect") {
      o.leaderElect = true;
    } else if (arg == "--identity" && more) {
      o.identity = argv[++i];
    } else if (arg == "--lease-namespace" && more) {
      o.leaseNamespace = argv[++i];
    } else if (arg == "--lease-duration-ms" && more) {
      o.lease.leaseDuration = std::chrono::milliseconds(std::stoi(argv[++i]));
    } else if (arg == "--renew-deadline-ms" && more) {
      o.lease.renewDeadline = std::chrono::milliseconds(std::stoi(argv[++i]));
    } else if (arg == "--retry-period-ms" && more) {
      o.lease.retryPeriod = std::chrono::milliseconds(std::stoi(argv[++i]));
    } else if (arg == "--srvr-map" && more) {
      o.srvrMap = argv[++i];
    } else if (arg == "--local-addressing" && more) {
      o.localAddressing = argv[++i];
    } else if (arg == "--assume-applied-membership") {
      o.assumeAppliedMembership = true;
    } else if (arg == "--watch") {
      o.watch = true;
    } else if (arg == "--resync-ms" && more) {
      o.controller.resyncPeriod = std::chrono::milliseconds(std::stoi(argv[++i]));
    } else if (arg == "--watch-timeout-s" && more) {
      o.controller.reflector.watchTimeout = std::chrono::seconds(std::stoi(argv[++i]));
    } else if (arg == "--wait-requeue-ms" && more) {
      o.controller.waitRequeue = std::chrono::milliseconds(std::stoi(argv[++i]));
    } else if (arg == "--workers" && more) {
      o.controller.workers = std::stoi(argv[++i]);
    } else {
      return std::nullopt;
    }
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  auto options = parseArgs(argc, argv);
  if (!options) {
    std::cerr << "usage: zookube-kube-selftest [--kubeconfig FILE] [--namespace NS] [--passes N]\n"
                 "  [--interval-ms MS] [--leader-elect [--identity ID] [--lease-namespace NS]\n"
                 "   [--lease-duration-ms MS] [--renew-deadline-ms MS] [--retry-period-ms MS]]\n"
                 "  [--srvr-map FILE] [--probe-timeout-ms MS] [--request-timeout-ms MS]\n"
                 "  [--local-addressing DIR] [--assume-applied-membership]\n"
                 "  [--watch [--resync-ms MS] [--watch-timeout-s S] [--wait-requeue-ms MS]\n"
                 "           [--workers N]]\n";
    return 64;
  }
  zk::op::kube::exitAfterKubernetes(zk::op::kube::runKubernetes(
      *options, [](const std::string& line) { std::cout << line << std::endl; }));
}

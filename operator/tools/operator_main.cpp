// zookube-operator: reconciles ZkCluster resources with the planner in plan/.
//   zookube-operator --local FILE [--state-dir DIR] [--server-binary PATH]
//                    [--metrics-address HOST:PORT]
// Local mode drives zookube-server processes on this machine from a manifest file; the
// Kubernetes mode is not built yet.
#include <unistd.h>

#include <utility>  // before Boost.Asio, whose awaitable.hpp needs std::exchange

#include <boost/asio.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "backends/local/local_backend.h"
#include "backends/operator_metrics.h"
#include "kube/kube_runner.h"
#include "model/zk_cluster.h"
#include "plan/plan.h"

namespace {

namespace fs = std::filesystem;
using namespace zk::op;
using local::LocalState;
using Clock = std::chrono::steady_clock;

constexpr auto kInterval = std::chrono::milliseconds(300);

constexpr const char* kUsage =
    "usage: zookube-operator [--kubeconfig FILE] [--namespace NS] [--leader-elect]\n"
    "                        [--metrics-address HOST:PORT] [--workers N] [--resync-seconds S]\n"
    "       zookube-operator --local ZKCLUSTER.yaml [--state-dir DIR] [--server-binary PATH]\n"
    "                        [--metrics-address HOST:PORT]\n"
    "\n"
    "Without --local it reconciles ZkCluster resources on Kubernetes:\n"
    "  --kubeconfig FILE     API server and credentials (default $KUBECONFIG, else in-cluster)\n"
    "  --namespace NS        only ZkClusters in NS (default: every namespace)\n"
    "  --leader-elect        take a Lease first, so only one replica acts\n"
    "  --workers N           ZkClusters reconciled at once, each by one worker (default 1)\n"
    "  --resync-seconds S    every ZkCluster is reconciled again this often even without a\n"
    "                        watch event (default 600)\n"
    "\n"
    "  --local FILE          run the ZkCluster in FILE as zookube-server processes on this\n"
    "                        machine; edits to FILE are applied as they are saved\n"
    "  --state-dir DIR       members' configs, data and logs (default ./zookube-state)\n"
    "  --server-binary PATH  zookube-server to run (default: next to this binary)\n"
    "  --metrics-address A   where the operator's /metrics listens (default 127.0.0.1:8080)\n"
    "\n"
    "SIGINT or SIGTERM stops every member cleanly and exits 0; the data stays for the next "
    "start.\n";

struct Options {
  std::string manifest;
  fs::path stateDir = "zookube-state";
  std::string serverBinary;
  std::string metricsAddress;  // default: 127.0.0.1:8080 locally, 0.0.0.0:8080 in a cluster
  std::string kubeconfig;
  std::string ns;
  bool leaderElect = false;
  int workers = 1;
  int resyncSeconds = 600;
};

// A whole positive number no larger than `max`, or nullopt.
std::optional<int> positiveInt(const std::string& text, int max) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 1 || value > max)
    return std::nullopt;
  return value;
}

void say(const std::string& line) {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char stamp[16];
  std::strftime(stamp, sizeof stamp, "%H:%M:%S", &tm);
  std::cout << stamp << "  " << line << std::endl;
}

std::optional<std::string> readText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// zookube-server next to this binary, or in the build tree's server/ beside operator/.
std::string findServerBinary() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  for (fs::path candidate : {self.parent_path() / "zookube-server",
                             self.parent_path().parent_path() / "server" / "zookube-server"}) {
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return {};
}

// One ZkCluster manifest reconciled onto local processes.
class LocalOperator {
 public:
  // The state directory is locked before the metrics port is taken, so a second operator on the
  // same directory is told so rather than that the port is in use.
  explicit LocalOperator(Options options)
      : options_(std::move(options)),
        backend_({options_.stateDir, options_.serverBinary}, say),
        metrics_(options_.metricsAddress) {}

  void pass() {
    auto begin = Clock::now();
    reloadManifest();
    if (!cluster_) {  // never had a valid manifest: nothing runs, nothing to keep
      reportErrors(errors_);
      return;
    }
    ZkCluster c = *cluster_;
    LocalState& state = backend_.state();
    std::vector<std::string> errors = errors_;
    if (!state.cluster.empty() && state.cluster != c.meta.name) {
      errors.push_back("metadata.name: this state directory holds ZkCluster " + state.cluster +
                       "; use another --state-dir for " + c.meta.name);
    }
    noteGeneration(c, state);
    c.meta.generation = state.generation;
    c.status = state.status;
    Observed observed = backend_.observe(c);
    Plan p = errors.empty() ? plan(c, backend_.targetHash(c), observed)
                            : planInvalid(state.status, state.generation, errors);
    reportErrors(errors);
    size_t restartsBefore = state.history.size();
    auto failure = backend_.execute(c, p);
    // A missing Secret holds every apply back (Degraded, as in Kubernetes mode).
    bool held = std::any_of(observed.blockers.begin(), observed.blockers.end(),
                            [](const Blocker& b) { return infoOf(b.cause).holdsApply; });
    if (errors.empty() && !held) {
      applied_ = c;
    } else if (applied_ && !failure) {
      // As a StatefulSet keeps its pods while its owner is invalid or blocked: members that die
      // are started again on the last rendering that was applied.
      Plan keep;
      keep.actions.push_back(ApplyObjects{{state.status.voters, state.status.observers}});
      failure = backend_.execute(*applied_, keep);
    }
    if (failure && *failure != lastFailure_) say("error: " + *failure);
    lastFailure_ = failure.value_or("");
    for (size_t i = restartsBefore; i < state.history.size(); ++i) {
      metrics_.restarted(c.meta.name, state.history[i].member, "roll");
    }
    for (const std::string& member : backend_.takeRecovered())
      metrics_.restarted(c.meta.name, member, "recovered");
    reportPhase(c, p.status);
    writeEnsembleFile(c);
    metrics_.observed(c, observed, p);
    metrics_.reconciled(c.meta.name, std::chrono::duration<double>(Clock::now() - begin).count(),
                        failure.has_value());
  }

  void shutdown() {
    say("stopping every member (their data stays in " + options_.stateDir.string() + ")");
    backend_.stopAll();
    say("stopped");
  }

 private:
  void reloadManifest() {
    std::optional<std::string> text = readText(options_.manifest);
    if (!text) {
      if (!unreadable_) say("error: cannot read " + options_.manifest + "; keeping what runs");
      unreadable_ = true;
      return;
    }
    unreadable_ = false;
    if (*text == manifestText_) return;
    bool first = manifestText_.empty();
    manifestText_ = *text;
    try {
      cluster_ = parseZkClusterYaml(*text);
      errors_.clear();
      if (!first) say("manifest " + options_.manifest + " changed: planning again");
    } catch (const SpecError& e) {
      errors_ = e.errors();
    }
  }

  void noteGeneration(const ZkCluster& c, LocalState& state) {
    std::string digest = toJson(c.spec).serialize();
    if (digest == state.specDigest && state.cluster == c.meta.name) return;
    if (!state.cluster.empty() && state.cluster != c.meta.name) return;
    state.cluster = c.meta.name;
    state.specDigest = digest;
    ++state.generation;
    backend_.saveState();
  }

  void reportErrors(const std::vector<std::string>& errors) {
    if (errors == reportedErrors_) return;
    reportedErrors_ = errors;
    if (errors.empty()) return;
    say("manifest " + options_.manifest + " is refused; nothing running is changed:");
    for (const std::string& e : errors) say("  " + e);
  }

  void reportPhase(const ZkCluster& c, const ZkClusterStatus& s) {
    std::string summary = s.phase + ", " + std::to_string(s.readyMembers) + " of " +
                          std::to_string(s.voters + s.observers) + " members ready" +
                          (s.leader.empty() ? ", no leader" : ", leader " + s.leader);
    if (summary == lastSummary_) return;
    lastSummary_ = summary;
    say("cluster " + c.meta.name + ": " + summary);
    if (s.phase == "Running" && !announced_) {
      announced_ = true;
      std::string connect;
      for (const Member& m : members(c, {s.voters, s.observers})) {
        Endpoint e = endpointOf(c, m, backend_.addressing());
        connect += (connect.empty() ? "" : ",") + e.host + ":" + std::to_string(e.ports.client);
      }
      say("connect with: zkCli.sh -server " + connect);
      say("operator metrics: http://" + options_.metricsAddress + "/metrics; members' in " +
          (options_.stateDir / "ensemble.json").string());
    }
  }

  void writeEnsembleFile(const ZkCluster& c) {
    std::string json = backend_.ensembleJson(c, options_.metricsAddress);
    if (json == lastEnsemble_) return;
    local::writeFileAtomically(fs::absolute(options_.stateDir) / "ensemble.json", json);
    lastEnsemble_ = json;
  }

  Options options_;
  local::LocalBackend backend_;
  OperatorMetrics metrics_;
  std::string manifestText_;
  std::optional<ZkCluster> cluster_;  // the last manifest that parsed
  std::optional<ZkCluster> applied_;  // the last one planned with (not refused)
  std::vector<std::string> errors_, reportedErrors_;
  bool unreadable_ = false, announced_ = false;
  std::string lastFailure_, lastSummary_, lastEnsemble_;
};

// Runs passes on a timer until SIGINT or SIGTERM.
int runLocal(const Options& options) {
  std::optional<LocalOperator> built;
  try {
    built.emplace(options);
  } catch (const std::exception& e) {
    std::cerr << "zookube-operator: " << e.what() << "\n";
    return 1;
  }
  LocalOperator& op = *built;
  say("zookube-operator: local mode, manifest " + options.manifest + ", state in " +
      fs::absolute(options.stateDir).string() + ", server " + options.serverBinary);
  boost::asio::io_context io;
  boost::asio::steady_timer timer(io);
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  bool stopping = false;
  std::function<void()> tick = [&] {
    try {
      op.pass();
    } catch (const std::exception& e) {
      say("error: reconcile failed: " + std::string(e.what()));
    }
    timer.expires_after(kInterval);
    timer.async_wait([&](const boost::system::error_code& ec) {
      if (!ec && !stopping) tick();
    });
  };
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    stopping = true;
    timer.cancel();
    say(std::string("received ") + (signo == SIGTERM ? "SIGTERM" : "SIGINT"));
    op.shutdown();
  });
  boost::asio::post(io, tick);
  io.run();
  return 0;
}

// Kubernetes mode: the same planner through the API server (operator/kube).
int runKube(Options o) {
  if (o.metricsAddress.empty()) o.metricsAddress = "0.0.0.0:8080";
  try {
    OperatorMetrics metrics(o.metricsAddress);
    kube::KubeRunOptions k;
    k.kubeconfig = o.kubeconfig;
    k.ns = o.ns;
    k.leaderElect = o.leaderElect;
    k.controller.workers = o.workers;
    k.controller.resyncPeriod = std::chrono::seconds(o.resyncSeconds);
    k.onCluster = [&metrics](const ZkCluster& c, const Observed& observed, const Plan& plan,
                             bool failed, double seconds) {
      metrics.observed(c, observed, plan);
      metrics.reconciled(c.meta.name, seconds, failed);
      for (const Action& a : plan.actions)
        if (const auto* r = std::get_if<RestartMember>(&a))
          metrics.restarted(c.meta.name, r->member.name, "roll");
    };
    kube::exitAfterKubernetes(kube::runKubernetes(k, say));
  } catch (const std::exception& e) {
    std::cerr << "zookube-operator: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  bool local = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    bool hasValue = i + 1 < argc;
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    } else if (arg == "--local" && hasValue) {
      local = true;
      options.manifest = argv[++i];
    } else if (arg == "--state-dir" && hasValue) {
      options.stateDir = argv[++i];
    } else if (arg == "--server-binary" && hasValue) {
      options.serverBinary = argv[++i];
    } else if (arg == "--metrics-address" && hasValue) {
      options.metricsAddress = argv[++i];
    } else if (arg == "--kubeconfig" && hasValue) {
      options.kubeconfig = argv[++i];
    } else if (arg == "--namespace" && hasValue) {
      options.ns = argv[++i];
    } else if (arg == "--leader-elect") {
      options.leaderElect = true;
    } else if ((arg == "--workers" || arg == "--resync-seconds") && hasValue) {
      std::string text = argv[++i];
      auto value = positiveInt(text, arg == "--workers" ? 64 : 86400);
      if (!value) {
        std::cerr << "zookube-operator: " << arg << " wants a whole number from 1 to "
                  << (arg == "--workers" ? "64" : "86400") << ", got '" << text << "'\n";
        return 64;
      }
      (arg == "--workers" ? options.workers : options.resyncSeconds) = *value;
    } else {
      std::cerr << "zookube-operator: unknown argument " << arg << "\n" << kUsage;
      return 64;
    }
  }
  if (!local) return runKube(options);
  if (options.metricsAddress.empty()) options.metricsAddress = "127.0.0.1:8080";
  if (options.serverBinary.empty()) options.serverBinary = findServerBinary();
  if (options.serverBinary.empty() || ::access(options.serverBinary.c_str(), X_OK) != 0) {
    std::cerr << "zookube-operator: no zookube-server binary found"
              << (options.serverBinary.empty() ? "" : " at " + options.serverBinary)
              << "; pass --server-binary PATH\n";
    return 2;
  }
  options.serverBinary = fs::absolute(options.serverBinary).string();
  try {
    return runLocal(options);
  } catch (const std::exception& e) {
    std::cerr << "zookube-operator: " << e.what() << "\n";
    return 1;
  }
}

#include "net/metrics.h"

#include <prometheus/collectable.h>
#include <prometheus/exposer.h>
#include <prometheus/registry.h>
#include <prometheus/summary.h>
#include <prometheus/text_serializer.h>

#include <chrono>
#include <stdexcept>
#include <utility>
#include <vector>

#include "net/four_letter.h"

namespace zk {

// Builds ZooKeeper's gauges from the last published ServerStats when scraped.
class StatsCollectable : public prometheus::Collectable {
 public:
  void publish(const ServerStats& stats) {
    std::lock_guard lock(mutex_);
    stats_ = stats;
  }

  std::vector<prometheus::MetricFamily> Collect() const override {
    ServerStats s;
    {
      std::lock_guard lock(mutex_);
      s = stats_;
    }
    std::vector<prometheus::MetricFamily> out;
    addServerGauges(out, s);
    if (s.quorumSize > 0) gauge(out, "quorum_size", s.quorumSize);
    if (s.leader) addLeaderGauges(out, *s.leader);
    if (s.follower) gauge(out, "synced_observers", double(s.follower->syncedObservers));
    return out;
  }

 private:
  static void gauge(std::vector<prometheus::MetricFamily>& out, std::string name, double v) {
    prometheus::ClientMetric metric;
    metric.gauge.value = v;
    // ZooKeeper's provider uses the name as the help text too.
    out.push_back({name, name, prometheus::MetricType::Gauge, {metric}});
  }

  static void addServerGauges(std::vector<prometheus::MetricFamily>& out, const ServerStats& s) {
    auto g = [&out](std::string name, auto v) { gauge(out, std::move(name), double(v)); };
    g("avg_latency", averageOf(s.requestLatency));
    g("max_latency", s.requestLatency.max);
    g("min_latency", s.requestLatency.min);
    g("packets_received", s.packetsReceived);
    g("packets_sent", s.packetsSent);
    g("num_alive_connections", s.aliveConnections);
    g("outstanding_requests", s.outstandingRequests);
    g("uptime", s.uptimeMs);
    g("znode_count", s.nodeCount);
    g("watch_count", s.watchCount);
    g("ephemerals_count", s.ephemeralsCount);
    g("approximate_data_size", s.approximateDataSize);
    g("global_sessions", s.globalSessions);
    g("local_sessions", s.localSessions);
    g("open_file_descriptor_count", s.openFileDescriptors);
    g("max_file_descriptor_count", s.maxFileDescriptors);
    g("last_client_response_size", s.lastClientResponseSize);
    g("max_client_response_size", s.maxClientResponseSize);
    g("min_client_response_size", s.minClientResponseSize);
    g("auth_failed_count", s.authFailedCount);
  }

  static void addLeaderGauges(std::vector<prometheus::MetricFamily>& out, const LeaderStats& l) {
    auto g = [&out](std::string name, std::int64_t v) { gauge(out, std::move(name), double(v)); };
    g("learners", l.learners);
    g("synced_followers", l.syncedFollowers);
    g("synced_non_voting_followers", l.syncedNonVotingFollowers);
    g("synced_observers", l.syncedObservers);
    g("pending_syncs", l.pendingSyncs);
    g("leader_uptime", l.leaderUptimeMs);
    g("last_proposal_size", l.proposalSize.last);
    g("max_proposal_size", l.proposalSize.max);
    g("min_proposal_size", l.proposalSize.min);
  }

  mutable std::mutex mutex_;
  ServerStats stats_;
};

namespace {

// ZooKeeper's two summary shapes (DetailLevel.ADVANCED and BASIC), over the Java client's
// default 10-minute window.
constexpr auto kWindow = std::chrono::minutes(10);

prometheus::Summary& summary(prometheus::Registry& registry, const std::string& name,
                             bool advanced) {
  prometheus::Summary::Quantiles quantiles{{0.5, 0.05}};
  if (advanced) {
    quantiles.push_back({0.9, 0.01});
    quantiles.push_back({0.99, 0.001});
  }
  return prometheus::BuildSummary().Name(name).Help(name).Register(registry).Add({}, quantiles,
                                                                                 kWindow, 5);
}

std::string bindAddress(const std::string& host, std::uint16_t port) {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace

Metrics::Metrics()
    : stats_(std::make_shared<StatsCollectable>()),
      registry_(std::make_shared<prometheus::Registry>()),
      readLatency_(&summary(*registry_, "readlatency", true)),
      updateLatency_(&summary(*registry_, "updatelatency", true)),
      fsyncTime_(&summary(*registry_, "fsynctime", false)),
      electionTime_(&summary(*registry_, "election_time", false)) {}

Metrics::Metrics(const std::string& host, std::uint16_t port) : Metrics() {
  const std::string address = bindAddress(host, port);
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(address, 1);
  } catch (const std::exception& e) {
    throw std::runtime_error("metrics endpoint " + address + ": " + e.what());
  }
  exposer_->RegisterCollectable(stats_);
  exposer_->RegisterCollectable(registry_);
}

Metrics::~Metrics() = default;

void Metrics::publish(const ServerStats& stats) {
  stats_->publish(stats);
}
void Metrics::observeReadLatency(std::int64_t ms) {
  readLatency_->Observe(double(ms));
}
void Metrics::observeUpdateLatency(std::int64_t ms) {
  updateLatency_->Observe(double(ms));
}
void Metrics::observeFsync(std::int64_t ms) {
  fsyncTime_->Observe(double(ms));
}
void Metrics::observeElectionTime(std::int64_t ms) {
  electionTime_->Observe(double(ms));
}

std::string Metrics::render() const {
  auto families = stats_->Collect();
  auto summaries = registry_->Collect();
  families.insert(families.end(), summaries.begin(), summaries.end());
  return prometheus::TextSerializer().Serialize(families);
}

std::uint16_t Metrics::port() const {
  if (!exposer_) return 0;
  auto ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : static_cast<std::uint16_t>(ports.front());
}

}  // namespace zk

#include "net/metrics.h"

#include <prometheus/collectable.h>
#include <prometheus/exposer.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <condition_variable>
#include <limits>
#include <map>
#include <mutex>
#include <span>
#include <stdexcept>
#include <utility>
#include <vector>

#include "net/four_letter.h"
#include "net/process_stats.h"

namespace zk {
namespace {

void gauge(std::vector<prometheus::MetricFamily>& out, std::string name, double v) {
  prometheus::ClientMetric metric;
  metric.gauge.value = v;
  // ZooKeeper's provider uses the name as the help text too.
  out.push_back({name, name, prometheus::MetricType::Gauge, {metric}});
}

void addServerGauges(std::vector<prometheus::MetricFamily>& out, const ServerStats& s) {
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
  g("large_requests_rejected", s.largeRequestsRejected);
  g("unsuccessful_handshake", s.unsuccessfulHandshakes);
  g("tls_handshake_exceeded", s.tlsHandshakesExceeded);
  g("quorum_tls_handshakes", s.quorumTlsHandshakes);
  g("quorum_unsuccessful_handshake", s.quorumUnsuccessfulHandshakes);
  g("quorum_sasl_auth_success", s.quorumSaslAuthenticated);
  g("quorum_sasl_auth_fail", s.quorumSaslFailed);
}

// ZooKeeper's Prometheus provider: a gauge or counter set is one family with a "key" label.
void addKeyed(std::vector<prometheus::MetricFamily>& out, std::string name,
              prometheus::MetricType type, const std::map<std::string, double>& values) {
  if (values.empty()) return;
  prometheus::MetricFamily family{name, name, type, {}};
  for (const auto& [key, value] : values) {
    prometheus::ClientMetric metric;
    metric.label.push_back({"key", key});
    (type == prometheus::MetricType::Counter ? metric.counter.value : metric.gauge.value) = value;
    family.metric.push_back(std::move(metric));
  }
  out.push_back(std::move(family));
}

void addQuotaMetrics(std::vector<prometheus::MetricFamily>& out, const ServerStats& s) {
  std::map<std::string, double> countLimit, bytesLimit, countUsage, bytesUsage, exceeded;
  for (const auto& [ns, q] : s.quotaByNamespace) {
    countLimit[ns] = double(q.countLimit);
    bytesLimit[ns] = double(q.bytesLimit);
    countUsage[ns] = double(q.countUsage);
    bytesUsage[ns] = double(q.bytesUsage);
  }
  for (const auto& [ns, n] : s.quotaExceededByNamespace) exceeded[ns] = double(n);
  using prometheus::MetricType;
  addKeyed(out, "quota_count_limit_per_namespace", MetricType::Gauge, countLimit);
  addKeyed(out, "quota_bytes_limit_per_namespace", MetricType::Gauge, bytesLimit);
  addKeyed(out, "quota_count_usage_per_namespace", MetricType::Gauge, countUsage);
  addKeyed(out, "quota_bytes_usage_per_namespace", MetricType::Gauge, bytesUsage);
  addKeyed(out, "quota_exceeded_error_per_namespace", MetricType::Counter, exceeded);
}

void addLeaderGauges(std::vector<prometheus::MetricFamily>& out, const LeaderStats& l) {
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

void addGauges(std::vector<prometheus::MetricFamily>& out, const ServerStats& s) {
  addServerGauges(out, s);
  addQuotaMetrics(out, s);
  if (s.quorumSize > 0) gauge(out, "quorum_size", double(s.quorumSize));
  if (s.leader) addLeaderGauges(out, *s.leader);
  if (s.follower) gauge(out, "synced_observers", double(s.follower->syncedObservers));
}

// ZooKeeper's two summary shapes (DetailLevel.ADVANCED and BASIC).
constexpr double kAdvanced[] = {0.5, 0.9, 0.99};
constexpr double kBasic[] = {0.5};

// A summary as the Java client exposes it: quantiles over the recent window, _count and _sum
// over the whole run. A window with nothing in it has no quantiles: NaN, as the Java client's
// estimator (and ZooKeeper's exposition) says, not a latency of 0 ms.
prometheus::MetricFamily summary(std::string name, std::span<const double> quantiles,
                                 const HistogramSnapshot& all, const HistogramSnapshot& recent) {
  prometheus::ClientMetric metric;
  metric.summary.sample_count = static_cast<std::uint64_t>(all.exact.count);
  metric.summary.sample_sum = double(all.exact.sum);
  bool empty = std::all_of(recent.buckets.begin(), recent.buckets.end(),
                           [](std::uint64_t n) { return n == 0; });
  for (double q : quantiles) {
    double value = empty ? std::numeric_limits<double>::quiet_NaN() : recent.quantile(q);
    metric.summary.quantile.push_back({q, value});
  }
  return {name, name, prometheus::MetricType::Summary, {metric}};
}

std::string bindAddress(const std::string& host, std::uint16_t port) {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace

// Builds every family when scraped. Its state is the scrapers' own, under its own mutex: the
// threads that record never touch it.
class MetricsCollectable : public prometheus::Collectable {
 public:
  MetricsCollectable(const RequestFigures& figures, Metrics::StatsSource stats)
      : figures_(figures), source_(std::move(stats)) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::optional<ServerStats> fresh = source_();
    std::lock_guard lock(mutex_);
    if (fresh) {
      last_ = std::move(fresh);
      last_->openFileDescriptors = openFileDescriptorCount();
      last_->maxFileDescriptors = maxFileDescriptorCount();
    }
    std::vector<prometheus::MetricFamily> out;
    if (last_) addGauges(out, *last_);
    auto now = RecentWindow::Clock::now();
    for (Tracked& t : tracked_) {
      HistogramSnapshot all = (figures_.*t.recorder).snapshot();
      out.push_back(summary(t.name, t.quantiles, all, t.window.recent(all, now)));
    }
    return out;
  }

 private:
  struct Tracked {
    std::string name;
    std::span<const double> quantiles;
    LatencyRecorder RequestFigures::*recorder;
    RecentWindow window;
  };

  const RequestFigures& figures_;
  Metrics::StatsSource source_;
  mutable std::mutex mutex_;
  mutable std::optional<ServerStats> last_;
  mutable std::vector<Tracked> tracked_ = [] {
    auto start = RecentWindow::Clock::now();
    std::vector<Tracked> t;
    t.push_back({"readlatency", kAdvanced, &RequestFigures::readLatency, RecentWindow(start)});
    t.push_back({"updatelatency", kAdvanced, &RequestFigures::updateLatency, RecentWindow(start)});
    t.push_back({"fsynctime", kBasic, &RequestFigures::fsyncTime, RecentWindow(start)});
    t.push_back({"election_time", kBasic, &RequestFigures::electionTime, RecentWindow(start)});
    return t;
  }();
};

Metrics::Metrics(const RequestFigures& figures, StatsSource stats)
    : collectable_(std::make_shared<MetricsCollectable>(figures, std::move(stats))) {}

Metrics::Metrics(const RequestFigures& figures, StatsSource stats, const std::string& host,
                 std::uint16_t port)
    : Metrics(figures, std::move(stats)) {
  const std::string address = bindAddress(host, port);
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(address, 1);
  } catch (const std::exception& e) {
    throw std::runtime_error("metrics endpoint " + address + ": " + e.what());
  }
  exposer_->RegisterCollectable(collectable_);
}

Metrics::~Metrics() = default;

std::string Metrics::render() const {
  return prometheus::TextSerializer().Serialize(collectable_->Collect());
}

std::uint16_t Metrics::port() const {
  if (!exposer_) return 0;
  auto ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : static_cast<std::uint16_t>(ports.front());
}

namespace {

// One scrape's question to the event loop; shared so that an answer arriving after the scrape
// gave up (or a question the loop drops unanswered when it is destroyed) harms nothing.
struct LoopAnswer {
  std::mutex mutex;
  std::condition_variable ready;
  std::optional<ServerStats> stats;
};

}  // namespace

Metrics::StatsSource statsFromLoop(asio::io_context& loop, std::function<ServerStats()> read,
                                   std::chrono::milliseconds timeout) {
  auto shared = std::make_shared<std::function<ServerStats()>>(std::move(read));
  return [&loop, shared, timeout]() -> std::optional<ServerStats> {
    auto answer = std::make_shared<LoopAnswer>();
    asio::post(loop, [answer, shared] {
      ServerStats stats = (*shared)();
      std::lock_guard lock(answer->mutex);
      answer->stats = std::move(stats);
      answer->ready.notify_one();
    });
    std::unique_lock lock(answer->mutex);
    answer->ready.wait_for(lock, timeout, [&] { return answer->stats.has_value(); });
    return std::move(answer->stats);
  };
}

}  // namespace zk

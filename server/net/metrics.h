#pragma once
// The Prometheus endpoint, with the metric names ZooKeeper's PrometheusMetricsProvider exports
// (so existing dashboards and alerts work): gauges such as znode_count and
// num_alive_connections, summaries readlatency / updatelatency (quantiles 0.5, 0.9, 0.99) and
// fsynctime and election_time (0.5), each with _count and _sum.
//
// Threads: the server thread calls publish() now and then with a fresh ServerStats (a copy
// under a mutex); the HTTP thread builds the gauges from the latest copy at scrape time. The
// observe*() calls are safe from any thread.
//
// When to enable (zookube's rule, see ServerConfig::metricsEnabled): metricsProvider.className
// names the Prometheus provider, or metricsProvider.httpPort is set.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "net/introspection.h"

namespace prometheus {
class Exposer;
class Registry;
class Summary;
}  // namespace prometheus

namespace zk {

class StatsCollectable;

class Metrics {
 public:
  // Metrics kept in memory only (render() shows them); no HTTP.
  Metrics();
  // Also serves GET /metrics on host:port (port 0 picks a free one). Throws std::runtime_error
  // when the address cannot be bound.
  Metrics(const std::string& host, std::uint16_t port);
  // Stopping the HTTP server takes up to 2 s (civetweb's listener polls in 2 s steps).
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  void publish(const ServerStats& stats);
  void observeReadLatency(std::int64_t ms);
  void observeUpdateLatency(std::int64_t ms);
  void observeFsync(std::int64_t ms);
  void observeElectionTime(std::int64_t ms);

  // The exposition text a scrape would return now.
  std::string render() const;
  // The bound HTTP port, 0 without HTTP.
  std::uint16_t port() const;

 private:
  std::shared_ptr<StatsCollectable> stats_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Summary* readLatency_ = nullptr;
  prometheus::Summary* updateLatency_ = nullptr;
  prometheus::Summary* fsyncTime_ = nullptr;
  prometheus::Summary* electionTime_ = nullptr;
  std::unique_ptr<prometheus::Exposer> exposer_;  // last: stops serving before the rest goes
};

}  // namespace zk

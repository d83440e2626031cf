#pragma once
// The Prometheus endpoint, with the metric names ZooKeeper's PrometheusMetricsProvider exports
// (so existing dashboards and alerts work): gauges such as znode_count and
// num_alive_connections, summaries readlatency / updatelatency (quantiles 0.5, 0.9, 0.99) and
// fsynctime and election_time (0.5), each with _count and _sum.
//
// Nothing here runs per request. Requests, fsyncs and elections are recorded into
// RequestFigures (metrics_histogram.h: O(1), no lock, no allocation), which the server keeps
// whether or not the endpoint is on, since mntr shows their exact min/avg/max too. A scrape,
// on the HTTP thread, copies those histograms and computes the quantiles, asks the event loop
// for the gauges through a StatsSource, and counts the open file descriptors itself, so the
// scan of /proc/self/fd runs neither on the event loop nor when nobody scrapes.
//
// When to enable (zookube's rule, see ServerConfig::metricsEnabled): metricsProvider.className
// names the Prometheus provider, or metricsProvider.httpPort is set.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "net/asio.h"
#include "net/introspection.h"
#include "net/metrics_histogram.h"

namespace prometheus {
class Exposer;
}  // namespace prometheus

namespace zk {

// What requests, fsyncs and elections leave behind. Each recorder has one writer thread.
struct RequestFigures {
  LatencyRecorder readLatency;    // the event loop: client reads answered
  LatencyRecorder updateLatency;  // the event loop: client writes answered
  LatencyRecorder fsyncTime;      // the transaction log's writer thread
  LatencyRecorder electionTime;   // the event loop: looking -> a leader known
};

class MetricsCollectable;

class Metrics {
 public:
  // Where a scrape gets the server's gauges, called on the scraping thread: the stats, or
  // nullopt when the server could not answer in time (the last answer is shown again then).
  using StatsSource = std::function<std::optional<ServerStats>()>;

  // Metrics kept in memory only (render() shows them); no HTTP. `figures` must outlive this.
  Metrics(const RequestFigures& figures, StatsSource stats);
  // Also serves GET /metrics on host:port (port 0 picks a free one). Throws std::runtime_error
  // when the address cannot be bound.
  Metrics(const RequestFigures& figures, StatsSource stats, const std::string& host,
          std::uint16_t port);
  // Stopping the HTTP server takes up to 2 s (civetweb's listener polls in 2 s steps).
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // The exposition text a scrape would return now.
  std::string render() const;
  // The bound HTTP port, 0 without HTTP.
  std::uint16_t port() const;

 private:
  std::shared_ptr<MetricsCollectable> collectable_;
  std::unique_ptr<prometheus::Exposer> exposer_;  // last: stops serving before the rest goes
};

// A StatsSource that runs `read` on `loop` (which owns what it reads) and waits up to `timeout`
// for its answer. The loop never waits for the scraper, so this cannot deadlock; a loop that is
// busy for longer, or stopped, costs the scrape the timeout and the last answer is shown.
Metrics::StatsSource statsFromLoop(asio::io_context& loop, std::function<ServerStats()> read,
                                   std::chrono::milliseconds timeout);

}  // namespace zk

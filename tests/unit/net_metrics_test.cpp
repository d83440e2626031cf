#include "net/metrics.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <regex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "net/metrics_histogram.h"

namespace zk {
namespace {

// A bounded HTTP/1.0 GET against 127.0.0.1: the body, or an exception.
std::string httpGet(std::uint16_t port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket");
  timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    throw std::runtime_error("connect");
  }
  std::string request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  send(fd, request.data(), request.size(), 0);
  std::string response;
  char buf[4096];
  for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;) response.append(buf, std::size_t(n));
  close(fd);
  auto body = response.find("\r\n\r\n");
  if (!response.starts_with("HTTP/1.") || body == std::string::npos) {
    throw std::runtime_error("bad response: " + response);
  }
  return response.substr(body + 4);
}

ServerStats sampleStats() {
  ServerStats s;
  s.nodeCount = 42;
  s.watchCount = 3;
  s.ephemeralsCount = 2;
  s.outstandingRequests = 1;
  s.aliveConnections = 5;
  s.approximateDataSize = 1234;
  s.packetsReceived = 100;
  s.packetsSent = 99;
  s.openFileDescriptors = 17;
  s.maxFileDescriptors = 1024;
  s.uptimeMs = 5000;
  s.requestLatency = {4, 10, 1, 5};
  return s;
}

bool hasLine(const std::string& text, const std::string& pattern) {
  return std::regex_search(text, std::regex("(^|\n)" + pattern + "(\n|$)"));
}

// A StatsSource whose answer the test sets.
struct FixedStats {
  std::optional<ServerStats> next;
  int asked = 0;
  Metrics::StatsSource source() {
    return [this] {
      ++asked;
      return next;
    };
  }
};

TEST(Metrics, GaugesCarryZooKeeperNames) {
  RequestFigures figures;
  FixedStats stats{sampleStats()};
  Metrics metrics(figures, stats.source());
  std::string text = metrics.render();
  EXPECT_TRUE(hasLine(text, "# TYPE znode_count gauge")) << text;
  EXPECT_TRUE(hasLine(text, "znode_count 42"));
  EXPECT_TRUE(hasLine(text, "watch_count 3"));
  EXPECT_TRUE(hasLine(text, "ephemerals_count 2"));
  EXPECT_TRUE(hasLine(text, "outstanding_requests 1"));
  EXPECT_TRUE(hasLine(text, "num_alive_connections 5"));
  EXPECT_TRUE(hasLine(text, "approximate_data_size 1234"));
  EXPECT_TRUE(hasLine(text, "packets_received 100"));
  EXPECT_TRUE(hasLine(text, "packets_sent 99"));
  EXPECT_TRUE(hasLine(text, "uptime 5000"));
  EXPECT_TRUE(hasLine(text, "avg_latency 2.5"));
  EXPECT_FALSE(hasLine(text, "learners .*"));
  EXPECT_FALSE(hasLine(text, "quorum_size .*"));
}

TEST(Metrics, FileDescriptorsAreCountedByTheScrape) {
  RequestFigures figures;
  FixedStats stats{sampleStats()};  // says 17 and 1024: the scrape counts for itself
  Metrics metrics(figures, stats.source());
  std::string text = metrics.render();
  std::smatch open;
  ASSERT_TRUE(std::regex_search(text, open, std::regex("\nopen_file_descriptor_count ([0-9]+)")))
      << text;
  EXPECT_GE(std::stoll(open[1]), 3);  // at least stdin, stdout, stderr
  EXPECT_FALSE(hasLine(text, "max_file_descriptor_count 1024"));
}

TEST(Metrics, EveryScrapeAsksAndAnUnansweredOneShowsTheLastAnswer) {
  RequestFigures figures;
  FixedStats stats{sampleStats()};
  Metrics metrics(figures, stats.source());
  metrics.render();
  ServerStats later = sampleStats();
  later.nodeCount = 43;
  later.quorumSize = 3;
  later.leader = LeaderStats{};
  later.leader->learners = 2;
  stats.next = later;
  std::string text = metrics.render();
  EXPECT_TRUE(hasLine(text, "znode_count 43")) << text;
  EXPECT_TRUE(hasLine(text, "quorum_size 3"));
  EXPECT_TRUE(hasLine(text, "learners 2"));
  stats.next.reset();
  text = metrics.render();
  EXPECT_TRUE(hasLine(text, "znode_count 43")) << text;
  EXPECT_EQ(stats.asked, 3);
}

TEST(Metrics, NoGaugesBeforeTheFirstAnswer) {
  RequestFigures figures;
  FixedStats stats;
  Metrics metrics(figures, stats.source());
  std::string text = metrics.render();
  EXPECT_FALSE(hasLine(text, "znode_count .*")) << text;
  EXPECT_TRUE(hasLine(text, "readlatency_count 0")) << text;
}

TEST(Metrics, SummariesHaveQuantilesCountAndSum) {
  RequestFigures figures;
  FixedStats stats{sampleStats()};
  Metrics metrics(figures, stats.source());
  for (int ms : {1, 2, 3, 4}) figures.readLatency.record(ms);
  figures.updateLatency.record(7);
  figures.fsyncTime.record(20);
  figures.fsyncTime.record(30);
  std::string text = metrics.render();
  EXPECT_TRUE(hasLine(text, "# TYPE readlatency summary")) << text;
  EXPECT_TRUE(hasLine(text, "readlatency_count 4"));
  EXPECT_TRUE(hasLine(text, "readlatency_sum 10"));
  // Values below 64 ms have a bucket each: the nearest-rank quantiles are exact.
  EXPECT_TRUE(hasLine(text, "readlatency\\{quantile=\"0.5\"\\} 2"));
  EXPECT_TRUE(hasLine(text, "readlatency\\{quantile=\"0.9\"\\} 4"));
  EXPECT_TRUE(hasLine(text, "readlatency\\{quantile=\"0.99\"\\} 4"));
  EXPECT_TRUE(hasLine(text, "updatelatency_count 1"));
  EXPECT_TRUE(hasLine(text, "updatelatency_sum 7"));
  EXPECT_TRUE(hasLine(text, "fsynctime_count 2"));
  EXPECT_TRUE(hasLine(text, "fsynctime_sum 50"));
  EXPECT_TRUE(hasLine(text, "fsynctime\\{quantile=\"0.5\"\\} 20"));
  EXPECT_FALSE(hasLine(text, "fsynctime\\{quantile=\"0.9\"\\} .*"));
  EXPECT_TRUE(hasLine(text, "election_time_count 0"));
  // Nothing recorded in the window: no quantile, as the Java client's estimator answers.
  EXPECT_TRUE(hasLine(text, "election_time\\{quantile=\"0.5\"\\} Nan")) << text;
}

TEST(Metrics, ScrapedOverHttpAskingTheLoop) {
  RequestFigures figures;
  asio::io_context loop;
  int loopAnswers = 0;
  auto onLoop = [&] {
    ++loopAnswers;
    return sampleStats();
  };
  Metrics metrics(figures, statsFromLoop(loop, onLoop, std::chrono::seconds(5)), "127.0.0.1", 0);
  ASSERT_NE(metrics.port(), 0);
  figures.updateLatency.record(3);
  auto work = asio::make_work_guard(loop);
  std::thread runner([&] { loop.run(); });
  std::string body;
  try {
    body = httpGet(metrics.port(), "/metrics");
  } catch (...) {
    loop.stop();
    runner.join();
    throw;
  }
  loop.stop();
  runner.join();
  EXPECT_EQ(loopAnswers, 1);
  EXPECT_TRUE(hasLine(body, "znode_count 42")) << body;
  EXPECT_TRUE(hasLine(body, "updatelatency_count 1")) << body;
}

TEST(Metrics, AStoppedLoopCostsTheTimeoutNotAHang) {
  RequestFigures figures;
  asio::io_context loop;  // never run
  Metrics metrics(figures, statsFromLoop(loop, sampleStats, std::chrono::milliseconds(50)));
  auto started = std::chrono::steady_clock::now();
  std::string text = metrics.render();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_FALSE(hasLine(text, "znode_count .*")) << text;
}

TEST(Metrics, BindFailureIsReported) {
  RequestFigures figures;
  FixedStats stats;
  Metrics first(figures, stats.source(), "127.0.0.1", 0);
  try {
    Metrics second(figures, stats.source(), "127.0.0.1", first.port());
    FAIL() << "bound a port already in use";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("metrics endpoint 127.0.0.1:"), std::string::npos)
        << e.what();
  }
}

TEST(LatencyHistogram, BucketsCoverEveryValueOnceAndStayWithinTheirWidth) {
  EXPECT_EQ(histogram::lowestIn(0), 0);
  for (std::size_t b = 0; b + 1 < histogram::kBuckets; ++b) {
    ASSERT_EQ(histogram::highestIn(b) + 1, histogram::lowestIn(b + 1)) << b;
    std::int64_t low = histogram::lowestIn(b), high = histogram::highestIn(b);
    ASSERT_EQ(histogram::bucketOf(low), b);
    ASSERT_EQ(histogram::bucketOf(high), b);
    // width <= lower bound / 32, so the midpoint is within 1/64 of each value in the bucket
    if (low < 64) {
      ASSERT_EQ(low, high);
    } else {
      ASSERT_LE(double(high - low + 1), double(low) / 32.0) << b;
    }
  }
  EXPECT_EQ(histogram::bucketOf(-5), 0U);
  EXPECT_EQ(histogram::bucketOf(std::int64_t{1} << 40), histogram::kBuckets - 1);
}

TEST(LatencyHistogram, ExactFiguresForMntr) {
  LatencyRecorder r;
  EXPECT_EQ(r.exact().count, 0);
  EXPECT_EQ(r.exact().min, 0);
  for (std::int64_t v : {7, 3, 1000000, 12}) r.record(v);
  LatencyStats s = r.exact();
  EXPECT_EQ(s.count, 4);
  EXPECT_EQ(s.sum, 1000022);
  EXPECT_EQ(s.min, 3);
  EXPECT_EQ(s.max, 1000000);
}

// The true nearest-rank quantile of sorted values.
double nearestRank(const std::vector<std::int64_t>& sorted, double q) {
  auto rank = static_cast<std::size_t>(std::ceil(q * double(sorted.size())));
  return double(sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1]);
}

TEST(LatencyHistogram, QuantilesWithinTheStatedErrorBound) {
  std::mt19937_64 random(19);
  // Log-normal around 40 ms with a long tail: most values land in the log-linear range.
  std::lognormal_distribution<double> latency(std::log(40.0), 1.5);
  LatencyRecorder r;
  std::vector<std::int64_t> values;
  for (int i = 0; i < 200000; ++i) {
    auto v = static_cast<std::int64_t>(latency(random));
    values.push_back(v);
    r.record(v);
  }
  std::sort(values.begin(), values.end());
  HistogramSnapshot s = r.snapshot();
  for (double q : {0.01, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0}) {
    double truth = nearestRank(values, q);
    double estimate = s.quantile(q);
    EXPECT_LE(std::abs(estimate - truth), truth * histogram::kRelativeError)
        << "q=" << q << " truth " << truth << " estimate " << estimate;
  }
  EXPECT_EQ(s.quantile(1.0), double(values.back()));  // clamped to the exact max
  EXPECT_EQ(s.quantile(1e-6), double(values.front()));
}

TEST(LatencyHistogram, RecentWindowForgetsWhatIsOlderThanTenMinutes) {
  using namespace std::chrono_literals;
  auto t0 = RecentWindow::Clock::time_point{} + 1h;
  RecentWindow window(t0);
  LatencyRecorder r;
  for (int i = 0; i < 100; ++i) r.record(1024);  // slow, at the start
  EXPECT_EQ(window.recent(r.snapshot(), t0 + 1min).quantile(0.5), 1024.0);
  // Scraped every minute for 12 minutes, fast requests only from minute 2 on.
  for (int minute = 2; minute <= 12; ++minute) {
    for (int i = 0; i < 100; ++i) r.record(5);
    HistogramSnapshot recent = window.recent(r.snapshot(), t0 + std::chrono::minutes(minute));
    if (minute < 10) {
      EXPECT_EQ(recent.quantile(0.99), 1024.0) << minute;
    }
  }
  HistogramSnapshot recent = window.recent(r.snapshot(), t0 + 12min);
  EXPECT_EQ(recent.quantile(0.99), 5.0);
  EXPECT_EQ(recent.quantile(1.0), 5.0);
  EXPECT_EQ(recent.exact.count, 1200);  // _count and _sum stay cumulative
}

}  // namespace
}  // namespace zk

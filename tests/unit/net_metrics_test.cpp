#include "net/metrics.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <regex>
#include <stdexcept>

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

TEST(Metrics, GaugesCarryZooKeeperNames) {
  Metrics metrics;
  metrics.publish(sampleStats());
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
  EXPECT_TRUE(hasLine(text, "open_file_descriptor_count 17"));
  EXPECT_TRUE(hasLine(text, "max_file_descriptor_count 1024"));
  EXPECT_TRUE(hasLine(text, "uptime 5000"));
  EXPECT_TRUE(hasLine(text, "avg_latency 2.5"));
  EXPECT_FALSE(hasLine(text, "learners .*"));
  EXPECT_FALSE(hasLine(text, "quorum_size .*"));
}

TEST(Metrics, PublishReplacesTheSnapshot) {
  Metrics metrics;
  metrics.publish(sampleStats());
  ServerStats later = sampleStats();
  later.nodeCount = 43;
  later.quorumSize = 3;
  later.leader = LeaderStats{};
  later.leader->learners = 2;
  metrics.publish(later);
  std::string text = metrics.render();
  EXPECT_TRUE(hasLine(text, "znode_count 43")) << text;
  EXPECT_TRUE(hasLine(text, "quorum_size 3"));
  EXPECT_TRUE(hasLine(text, "learners 2"));
}

TEST(Metrics, SummariesHaveQuantilesCountAndSum) {
  Metrics metrics;
  for (int ms : {1, 2, 3, 4}) metrics.observeReadLatency(ms);
  metrics.observeUpdateLatency(7);
  metrics.observeFsync(20);
  metrics.observeFsync(30);
  std::string text = metrics.render();
  EXPECT_TRUE(hasLine(text, "# TYPE readlatency summary")) << text;
  EXPECT_TRUE(hasLine(text, "readlatency_count 4"));
  EXPECT_TRUE(hasLine(text, "readlatency_sum 10"));
  EXPECT_TRUE(hasLine(text, "readlatency\\{quantile=\"0.5\"\\} [0-9.]+"));
  EXPECT_TRUE(hasLine(text, "readlatency\\{quantile=\"0.9\"\\} [0-9.]+"));
  EXPECT_TRUE(hasLine(text, "readlatency\\{quantile=\"0.99\"\\} [0-9.]+"));
  EXPECT_TRUE(hasLine(text, "updatelatency_count 1"));
  EXPECT_TRUE(hasLine(text, "updatelatency_sum 7"));
  EXPECT_TRUE(hasLine(text, "fsynctime_count 2"));
  EXPECT_TRUE(hasLine(text, "fsynctime_sum 50"));
  EXPECT_TRUE(hasLine(text, "fsynctime\\{quantile=\"0.5\"\\} [0-9.]+"));
  EXPECT_FALSE(hasLine(text, "fsynctime\\{quantile=\"0.9\"\\} .*"));
}

TEST(Metrics, ScrapedOverHttp) {
  Metrics metrics("127.0.0.1", 0);
  ASSERT_NE(metrics.port(), 0);
  metrics.publish(sampleStats());
  metrics.observeUpdateLatency(3);
  std::string body = httpGet(metrics.port(), "/metrics");
  EXPECT_TRUE(hasLine(body, "znode_count 42")) << body;
  EXPECT_TRUE(hasLine(body, "updatelatency_count 1")) << body;
}

TEST(Metrics, BindFailureIsReported) {
  Metrics first("127.0.0.1", 0);
  try {
    Metrics second("127.0.0.1", first.port());
    FAIL() << "bound a port already in use";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("metrics endpoint 127.0.0.1:"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace zk

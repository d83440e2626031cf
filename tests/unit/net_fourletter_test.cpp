#include "net/four_letter.h"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "config/four_letter_words.h"
#include "net_test_util.h"

namespace zk {
namespace {

std::uint32_t codeOf(std::string_view s) {
  return std::uint32_t(std::uint8_t(s[0])) << 24 | std::uint32_t(std::uint8_t(s[1])) << 16 |
         std::uint32_t(std::uint8_t(s[2])) << 8 | std::uint32_t(std::uint8_t(s[3]));
}

class FourLetterTest : public ::testing::Test {
 protected:
  FourLetterTest() {
    config_.fourLetterWhitelist.insert(kFourLetterWords.begin(), kFourLetterWords.end());
    config_.dataDir = "/var/zk";
    config_.dataLogDir = "/var/zk";
    config_.clientPort = 2181;
    config_.tickTime = 2000;
    config_.minSessionTimeout = 4000;
    config_.maxSessionTimeout = 40000;
    ServerStats& s = server_.stats_;
    s.version = "3.8.0-test";
    s.requestLatency = {3, 11, 1, 12};
    s.packetsReceived = 21;
    s.packetsSent = 20;
    s.aliveConnections = 2;
    s.lastZxid = 0x1a;
    s.nodeCount = 7;
  }
  std::string run(std::string_view cmd) { return runFourLetter(cmd, server_, config_); }

  FakeServer server_;
  ServerConfig config_;
};

ConnectionStats sessionConnection() {
  ConnectionStats c;
  c.remote = "/127.0.0.1:51588";
  c.sessionId = 0x100000d83980000;
  c.timeout = 10000;
  c.queued = 0;
  c.received = 6;
  c.sent = 6;
  c.lastCxid = 5;
  c.lastZxid = 3;
  c.lastOp = "EXIS";
  c.establishedMs = 1795361396195;
  c.lastResponseMs = 898789;
  c.lastLatencyMs = 1;
  c.minLatencyMs = 0;
  c.avgLatencyMs = 3;
  c.maxLatencyMs = 12;
  return c;
}

ConnectionStats bareConnection() {
  ConnectionStats c;
  c.remote = "/127.0.0.1:51594";
  c.interestOps = 0;
  c.received = 1;
  return c;
}

TEST(FourLetterName, RecognisesZooKeeperCodes) {
  for (std::string_view name : kFourLetterWords) {
    ASSERT_EQ(fourLetterName(codeOf(name)), name);
  }
  EXPECT_EQ(fourLetterName(0xfff4fffd), "telnet close");
  EXPECT_EQ(fourLetterName(codeOf("ruox")), std::nullopt);
  EXPECT_EQ(fourLetterName(44), std::nullopt);  // an ordinary length prefix
  EXPECT_EQ(fourLetterName(0x72756f6b), "ruok");
}

TEST_F(FourLetterTest, WhitelistRefusal) {
  config_.fourLetterWhitelist = {"srvr"};
  EXPECT_EQ(run("stat"), "stat is not executed because it is not in the whitelist.\n");
  EXPECT_EQ(run("ruok"), "ruok is not executed because it is not in the whitelist.\n");
  EXPECT_EQ(run("srst"), "srst is not executed because it is not in the whitelist.\n");
  EXPECT_EQ(server_.statsResets_, 0);
  EXPECT_TRUE(run("srvr").starts_with("Zookeeper version: "));
}

TEST_F(FourLetterTest, RuokIsroAndResets) {
  EXPECT_EQ(run("ruok"), "imok");
  EXPECT_EQ(run("isro"), "rw");
  server_.readOnly_ = true;
  EXPECT_EQ(run("isro"), "ro");
  EXPECT_EQ(run("srst"), "Server stats reset.\n");
  EXPECT_EQ(run("crst"), "Connection stats reset.\n");
  EXPECT_EQ(server_.statsResets_, 1);
  EXPECT_EQ(server_.connectionResets_, 1);
}

TEST_F(FourLetterTest, NotServing) {
  server_.serving_ = false;
  const std::string msg = "This ZooKeeper instance is not currently serving requests\n";
  for (auto cmd : {"stat", "srvr", "mntr", "conf", "cons", "wchs", "dump", "dirs", "srst"}) {
    EXPECT_EQ(run(cmd), msg) << cmd;
  }
  EXPECT_EQ(server_.statsResets_, 0);
  EXPECT_EQ(run("isro"), "null");
  EXPECT_EQ(run("ruok"), "imok");
}

TEST_F(FourLetterTest, Srvr) {
  EXPECT_EQ(run("srvr"),
            "Zookeeper version: 3.8.0-test\nLatency min/avg/max: 1/3.6667/12\nReceived: 21\n"
            "Sent: 20\nConnections: 2\nOutstanding: 0\nZxid: 0x1a\nMode: standalone\n"
            "Node count: 7\n");
}

TEST_F(FourLetterTest, StatListsClientsBriefly) {
  server_.connections_ = {bareConnection(), sessionConnection()};
  server_.readOnly_ = true;
  server_.stats_.requestLatency = {};
  EXPECT_EQ(run("stat"),
            "Zookeeper version: 3.8.0-test\nREAD-ONLY mode; serving only read-only clients\n"
            "Clients:\n /127.0.0.1:51594[0](queued=0,recved=1,sent=0)\n"
            " /127.0.0.1:51588[1](queued=0,recved=6,sent=6)\n\n"
            "Latency min/avg/max: 0/0.0/0\nReceived: 21\nSent: 20\nConnections: 2\n"
            "Outstanding: 0\nZxid: 0x1a\nMode: standalone\nNode count: 7\n");
}

TEST_F(FourLetterTest, StatOnLeaderShowsProposalSizes) {
  server_.stats_.serverState = "leader";
  server_.stats_.leader = LeaderStats{};
  server_.stats_.leader->proposalSize.last = 10;
  server_.stats_.leader->proposalSize.min = 5;
  server_.stats_.leader->proposalSize.max = 40;
  std::string out = run("srvr");
  EXPECT_TRUE(out.ends_with("Mode: leader\nNode count: 7\nProposal sizes last/min/max: 10/5/40\n"))
      << out;
}

TEST_F(FourLetterTest, ConsShowsSessionDetails) {
  ConnectionStats reset = sessionConnection();
  reset.lastCxid = -1;
  reset.lastZxid = -1;
  server_.connections_ = {bareConnection(), sessionConnection(), reset};
  EXPECT_EQ(run("cons"),
            " /127.0.0.1:51594[0](queued=0,recved=1,sent=0)\n"
            " /127.0.0.1:51588[1](queued=0,recved=6,sent=6,sid=0x100000d83980000,lop=EXIS,"
            "est=1795361396195,to=10000,lcxid=0x5,lzxid=0x3,lresp=898789,llat=1,minlat=0,"
            "avglat=3,maxlat=12)\n"
            " /127.0.0.1:51588[1](queued=0,recved=6,sent=6,sid=0x100000d83980000,lop=EXIS,"
            "est=1795361396195,to=10000,lzxid=0xffffffffffffffff,lresp=898789,llat=1,minlat=0,"
            "avglat=3,maxlat=12)\n\n");
}

TEST_F(FourLetterTest, MntrKeysAndValues) {
  server_.stats_.watchCount = 4;
  server_.stats_.fsyncTime = {2, 9, 4, 5};
  std::string out = run("mntr");
  EXPECT_TRUE(out.starts_with("zk_version\t3.8.0-test\nzk_server_state\tstandalone\n")) << out;
  for (auto line :
       {"zk_avg_latency\t3.6667\n", "zk_max_latency\t12\n", "zk_min_latency\t1\n",
        "zk_packets_received\t21\n", "zk_packets_sent\t20\n", "zk_num_alive_connections\t2\n",
        "zk_outstanding_requests\t0\n", "zk_znode_count\t7\n", "zk_watch_count\t4\n",
        "zk_ephemerals_count\t0\n", "zk_approximate_data_size\t0\n",
        "zk_open_file_descriptor_count\t-1\n", "zk_max_file_descriptor_count\t-1\n",
        "zk_avg_fsynctime\t4.5\n", "zk_min_fsynctime\t4\n", "zk_max_fsynctime\t5\n",
        "zk_cnt_fsynctime\t2\n", "zk_sum_fsynctime\t9\n", "zk_cnt_readlatency\t0\n"}) {
    EXPECT_NE(out.find(line), std::string::npos) << line;
  }
  EXPECT_EQ(out.find("zk_learners"), std::string::npos);
  for (std::size_t at = 0; at < out.size();) {
    std::size_t nl = out.find('\n', at);
    ASSERT_NE(nl, std::string::npos);
    std::string line = out.substr(at, nl - at);
    EXPECT_TRUE(line.starts_with("zk_") && std::count(line.begin(), line.end(), '\t') == 1) << line;
    at = nl + 1;
  }
}

TEST_F(FourLetterTest, MntrOnLeader) {
  server_.stats_.serverState = "leader";
  server_.stats_.peerState = "leading - broadcast";
  server_.stats_.quorumSize = 3;
  server_.stats_.leader = LeaderStats{};
  server_.stats_.leader->learners = 2;
  server_.stats_.leader->syncedFollowers = 2;
  std::string out = run("mntr");
  for (auto line : {"zk_peer_state\tleading - broadcast\n", "zk_quorum_size\t3\n",
                    "zk_learners\t2\n", "zk_synced_followers\t2\n", "zk_pending_syncs\t0\n"}) {
    EXPECT_NE(out.find(line), std::string::npos) << line;
  }
}

TEST_F(FourLetterTest, Watches) {
  server_.bySession_ = {{0x100000d83980000, {"/p", "/e1"}}, {0x2, {"/p"}}};
  server_.byPath_ = {{"/e1", {0x100000d83980000}}, {"/p", {0x100000d83980000, 0x2}}};
  EXPECT_EQ(run("wchs"), "2 connections watching 2 paths\nTotal watches:3\n");
  EXPECT_EQ(run("wchc"), "0x2\n\t/p\n0x100000d83980000\n\t/p\n\t/e1\n\n");
  EXPECT_EQ(run("wchp"), "/e1\n\t0x100000d83980000\n/p\n\t0x100000d83980000\n\t0x2\n\n");
  server_.bySession_.clear();
  server_.byPath_.clear();
  EXPECT_EQ(run("wchs"), "0 connections watching 0 paths\nTotal watches:0\n");
  EXPECT_EQ(run("wchc"), "\n");
}

TEST_F(FourLetterTest, Dump) {
  server_.sessions_.expiryBuckets = {{1795361407000, {0x100000d83980000}}};
  server_.sessions_.ephemerals = {{0x100000d83980000, {"/e1"}}};
  EXPECT_EQ(run("dump"),
            "SessionTracker dump:\nSession Sets (1)/(1):\n"
            "1 expire at Sun Nov 22 15:30:07 UTC 2026:\n\t0x100000d83980000\n"
            "ephemeral nodes dump:\nSessions with Ephemerals (1):\n0x100000d83980000:\n\t/e1\n"
            "Connections dump:\n");
  server_.sessions_ = {};
  EXPECT_EQ(run("dump"),
            "SessionTracker dump:\nSession Sets (0)/(0):\nephemeral nodes dump:\n"
            "Sessions with Ephemerals (0):\nConnections dump:\n");
}

TEST_F(FourLetterTest, DirsConfEnvi) {
  server_.stats_.dataDirSize = 457;
  server_.stats_.logDirSize = 12;
  EXPECT_EQ(run("dirs"), "datadir_size: 457\nlogdir_size: 12\n");
  std::string conf = run("conf");
  EXPECT_TRUE(
      conf.starts_with("clientPort=2181\nsecureClientPort=-1\n"
                       "dataDir=/var/zk/version-2\ndataDirSize=457\n"
                       "dataLogDir=/var/zk/version-2\ndataLogSize=12\ntickTime=2000\n"))
      << conf;
  std::string envi = run("envi");
  EXPECT_TRUE(envi.starts_with("Environment:\nzookeeper.version=3.8.0-test\n")) << envi;
  EXPECT_NE(envi.find("\nos.name=Linux\n"), std::string::npos) << envi;
}

// The scans behind open_file_descriptor_count and the directory sizes run only for the words
// that print them: srvr, which the operator polls, pays for neither.
TEST_F(FourLetterTest, OnlyTheWordsThatShowThemScanDescriptorsOrDirectories) {
  auto extrasOf = [this](std::string_view cmd) {
    server_.asked_.clear();
    run(cmd);
    bool fds = false, dirs = false;
    for (const StatsExtras& e : server_.asked_) {
      fds = fds || e.fileDescriptors;
      dirs = dirs || e.directorySizes;
    }
    return std::pair{fds, dirs};
  };
  EXPECT_EQ(extrasOf("mntr"), std::pair(true, false));
  EXPECT_EQ(extrasOf("dirs"), std::pair(false, true));
  EXPECT_EQ(extrasOf("conf"), std::pair(false, true));
  for (auto cmd : {"srvr", "stat", "envi"}) {
    EXPECT_EQ(extrasOf(cmd), std::pair(false, false)) << cmd;
    EXPECT_FALSE(server_.asked_.empty()) << cmd;
  }
}

TEST_F(FourLetterTest, TraceMaskAndTelnetClose) {
  EXPECT_EQ(run("gtmk"), "0");
  EXPECT_EQ(setTraceMaskReply(306), "306");
  EXPECT_EQ(run("telnet close"), "");
}

TEST(FourLetterVersion, StartsWithTheZooKeeperRelease) {
  EXPECT_TRUE(zookubeVersion().starts_with("3.8.0-zookube-"));
}

TEST(JavaDouble, MatchesDoubleToString) {
  EXPECT_EQ(javaDouble(0.0), "0.0");
  EXPECT_EQ(javaDouble(3.6667), "3.6667");
  EXPECT_EQ(javaDouble(12.0), "12.0");
  EXPECT_EQ(javaDouble(0.5), "0.5");
  EXPECT_EQ(javaDouble(1e7), "1.0E7");
  EXPECT_EQ(javaDouble(0.0001), "1.0E-4");
}

TEST(AverageOf, RoundsToFourDecimals) {
  EXPECT_EQ(averageOf({}), 0.0);
  EXPECT_EQ(averageOf({3, 11, 1, 12}), 3.6667);
  EXPECT_EQ(averageOf({3, 2, 0, 1}), 0.6667);
  EXPECT_EQ(averageOf({2, 9, 4, 5}), 4.5);
}

}  // namespace
}  // namespace zk

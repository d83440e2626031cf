#include <gtest/gtest.h>

#include <stdexcept>

#include "config/dynamic_config.h"

namespace zk {
namespace {

DynamicConfig threeVoters() {
  return parseDynamicConfig(
      "server.1=127.0.0.1:2888:3888:participant;127.0.0.1:2181\n"
      "server.2=127.0.0.1:2889:3889:participant;127.0.0.1:2182\n"
      "server.3=127.0.0.1:2890:3890:participant;127.0.0.1:2183\n"
      "version=100000000");
}

TEST(DynamicConfig, RoundTripsZooKeepersText) {
  DynamicConfig c = threeVoters();
  EXPECT_EQ(c.version, 0x100000000);
  ASSERT_EQ(c.servers.size(), 3u);
  EXPECT_EQ(c.servers.at(2).quorumPort, 2889);
  EXPECT_EQ(formatDynamicConfig(c),
            "server.1=127.0.0.1:2888:3888:participant;127.0.0.1:2181\n"
            "server.2=127.0.0.1:2889:3889:participant;127.0.0.1:2182\n"
            "server.3=127.0.0.1:2890:3890:participant;127.0.0.1:2183\n"
            "version=100000000");
  EXPECT_EQ(parseDynamicConfig(formatDynamicConfig(c)), c);
  // The file ZooKeeper writes: the same lines without the version, which its name carries.
  EXPECT_EQ(formatDynamicConfigFile(c),
            "server.1=127.0.0.1:2888:3888:participant;127.0.0.1:2181\n"
            "server.2=127.0.0.1:2889:3889:participant;127.0.0.1:2182\n"
            "server.3=127.0.0.1:2890:3890:participant;127.0.0.1:2183\n");
}

TEST(DynamicConfig, IncrementalJoinAndLeave) {
  DynamicConfig next = applyReconfigRequest(
      threeVoters(), "server.4=127.0.0.1:2891:3891:observer;127.0.0.1:2184", "3", "");
  EXPECT_EQ(next.servers.size(), 3u);
  EXPECT_FALSE(next.servers.contains(3));
  EXPECT_EQ(next.servers.at(4).role, PeerRole::kObserver);
}

TEST(DynamicConfig, AnyPositiveIdMayJoinAsInZooKeeper) {
  // kazoo's TestReconfig::test_no_super_auth joins server.999 and expects NoAuth, which only
  // comes after the request's arguments are found good.
  DynamicConfig next =
      applyReconfigRequest(threeVoters(), "server.999=0.0.0.0:1234:2345:observer;3456", "", "");
  EXPECT_EQ(next.servers.at(999).role, PeerRole::kObserver);
  EXPECT_THROW(applyReconfigRequest(threeVoters(), "server.0=127.0.0.1:1:2:observer;3", "", ""),
               std::invalid_argument);
}

TEST(DynamicConfig, NonIncrementalReplacesEveryone) {
  DynamicConfig next =
      applyReconfigRequest(threeVoters(), "", "",
                           "server.1=127.0.0.1:2888:3888:participant;127.0.0.1:2181,"
                           "server.5=127.0.0.1:2895:3895:participant;127.0.0.1:2185");
  EXPECT_EQ(next.servers.size(), 2u);
  EXPECT_TRUE(next.servers.contains(5));
}

TEST(DynamicConfig, RefusesWhatZooKeeperRefuses) {
  auto refused = [](std::string_view joining, std::string_view leaving, std::string_view members) {
    try {
      applyReconfigRequest(threeVoters(), joining, leaving, members);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(refused("", "9", "").find("leaving server 9 is not a member"), std::string::npos);
  EXPECT_NE(refused("", "1,2,3", "").find("no voting member"), std::string::npos);
  EXPECT_NE(
      refused("server.2=127.0.0.1:2889:3889:participant;127.0.0.1:2182", "", "").find("no change"),
      std::string::npos);
  EXPECT_NE(refused("server.x=1", "", "").find("server id"), std::string::npos);
  EXPECT_NE(refused("server.4=nohost", "", "").find("server.4"), std::string::npos);
  EXPECT_NE(refused("server.4=h:1:2", "3", "server.1=h:1:2").find("cannot be combined"),
            std::string::npos);
}

TEST(DynamicConfig, NamesTheBadEntry) {
  try {
    parseDynamicConfig("server.1=127.0.0.1:1:2\nversion=zz");
    FAIL() << "accepted a bad version";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("configuration entry 2"), std::string::npos);
  }
}

}  // namespace
}  // namespace zk

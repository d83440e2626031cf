#include "tree/quota.h"

#include <gtest/gtest.h>

namespace zk::quota {
namespace {

TEST(StatsTrack, ReadsAndWritesZooKeepersText) {
  auto limits = StatsTrack::parse("count=-1,bytes=-1=;byteHardLimit=50;countHardLimit=4");
  EXPECT_EQ(limits.count(), -1);
  EXPECT_EQ(limits.bytes(), -1);
  EXPECT_EQ(limits.byteHardLimit(), 50);
  EXPECT_EQ(limits.countHardLimit(), 4);
  EXPECT_EQ(limits.format(), "count=-1,bytes=-1=;byteHardLimit=50;countHardLimit=4");
  EXPECT_EQ(StatsTrack::parse("count=2,bytes=7").format(), "count=2,bytes=7");
}

TEST(StatsTrack, MissingKeysReadMinusOneAndJunkIsSkipped) {
  auto t = StatsTrack::parse("count=,nonsense;bytes=x12");
  EXPECT_EQ(t.count(), -1);
  EXPECT_EQ(t.bytes(), -1);
  EXPECT_EQ(StatsTrack().format(), "count=-1,bytes=-1");
}

TEST(QuotaRoots, TheDeepestAncestorByWholeComponentsGoverns) {
  QuotaRoots roots;
  roots.add("/a");
  roots.add("/a/b");
  EXPECT_EQ(roots.governing("/a/b/c").value(), "/a/b");
  EXPECT_EQ(roots.governing("/a/bc").value(), "/a");
  EXPECT_EQ(roots.governing("/a").value(), "/a");
  EXPECT_FALSE(roots.governing("/ab").has_value());
  EXPECT_FALSE(roots.governing("/").has_value());
  roots.remove("/a/b");
  EXPECT_EQ(roots.governing("/a/b/c").value(), "/a");
}

TEST(QuotaNodes, OwnerIsThePathUnderTheQuotaRoot) {
  EXPECT_EQ(quotaNodeOwner("/zookeeper/quota/a/b/zookeeper_limits", kLimitNode).value(), "/a/b");
  EXPECT_EQ(quotaNodeOwner("/zookeeper/quota/a/zookeeper_stats", kStatNode).value(), "/a");
  EXPECT_FALSE(quotaNodeOwner("/zookeeper/quota/zookeeper_limits", kLimitNode).has_value());
  EXPECT_FALSE(quotaNodeOwner("/a/zookeeper_limits", kLimitNode).has_value());
  EXPECT_FALSE(quotaNodeOwner("/zookeeper/quota/a/other", kLimitNode).has_value());
}

}  // namespace
}  // namespace zk::quota

// spec.storage against the volumes that exist: quantities, what may change, and the plan.
#include <gtest/gtest.h>

#include "operator_plan_test_util.h"
#include "plan/storage_change.h"

namespace zk::op {
namespace {

using testing::healthy;
using testing::makeCluster;

TEST(OperatorStorage, QuantitiesInBytesAsKubernetesReadsThem) {
  EXPECT_EQ(quantityBytes("10Gi"), 10.0L * (1LL << 30));
  EXPECT_EQ(quantityBytes("1500M"), 1.5e9L);
  EXPECT_EQ(quantityBytes("1.5Ti"), 1.5L * (1LL << 40));
  EXPECT_EQ(quantityBytes("2e9"), 2e9L);
  EXPECT_EQ(quantityBytes("123"), 123.0L);
  EXPECT_LT(*quantityBytes("1G"), *quantityBytes("1Gi"));
  for (const char* bad : {"", "Gi", "1GB", "1.2.3Gi", "-1Gi", "ten"}) {
    EXPECT_FALSE(quantityBytes(bad)) << bad;
  }
}

TEST(OperatorStorage, GrowingIsAllowedShrinkingAndAnotherClassAreNot) {
  Storage want;
  want.size = "20Gi";
  EXPECT_EQ(decideStorage(want, {"10Gi", std::nullopt}).change, StorageChange::kGrow);
  EXPECT_EQ(decideStorage(want, {"20480Mi", std::nullopt}).change, StorageChange::kNone);
  StorageDecision shrink = decideStorage(want, {"30Gi", std::nullopt});
  EXPECT_EQ(shrink.change, StorageChange::kRefused);
  EXPECT_EQ(shrink.message,
            "spec.storage.size: 30Gi -> 20Gi: volumes cannot shrink; set it back to 30Gi or more");
  want.storageClassName = "fast";
  StorageDecision moved = decideStorage(want, {"20Gi", std::string("slow")});
  EXPECT_EQ(moved.change, StorageChange::kRefused);
  EXPECT_NE(moved.message.find("spec.storage.storageClassName: \"slow\" -> \"fast\""),
            std::string::npos);
}

bool has(const Plan& p, auto pred) {
  return std::any_of(p.actions.begin(), p.actions.end(), pred);
}

TEST(OperatorStorage, AGrowExpandsTheVolumesBeforeTheObjectsAreApplied) {
  ZkCluster c = makeCluster(3, 1);
  c.spec.storage.size = "20Gi";
  Observed o = healthy(c, "h");
  o.storage = AppliedStorage{"10Gi", std::nullopt};
  Plan p = plan(c, "h", o);
  auto expand = std::find_if(p.actions.begin(), p.actions.end(), [](const Action& a) {
    return std::holds_alternative<ExpandVolumes>(a);
  });
  ASSERT_NE(expand, p.actions.end());
  EXPECT_EQ(std::get<ExpandVolumes>(*expand).size, "20Gi");
  EXPECT_TRUE(std::holds_alternative<ApplyObjects>(*(expand + 1)));
  EXPECT_FALSE(has(p, [](const Action& a) { return std::holds_alternative<RestartMember>(a); }));
  o.storage = AppliedStorage{"20Gi", std::nullopt};  // done: nothing more to grow
  EXPECT_FALSE(has(plan(c, "h", o),
                   [](const Action& a) { return std::holds_alternative<ExpandVolumes>(a); }));
}

TEST(OperatorStorage, ARefusedChangeIsDegradedAndTouchesNothing) {
  ZkCluster c = makeCluster(3, 1);
  c.spec.storage.size = "5Gi";
  Observed o = healthy(c, "h");
  o.storage = AppliedStorage{"10Gi", std::nullopt};
  Plan p = plan(c, "h", o);
  EXPECT_EQ(p.status.phase, "Degraded");
  for (const Action& a : p.actions) {
    EXPECT_TRUE(std::holds_alternative<UpdateStatus>(a) || std::holds_alternative<EmitEvent>(a))
        << describe(a);
  }
  auto degraded = std::find_if(p.status.conditions.begin(), p.status.conditions.end(),
                               [](const Condition& x) { return x.type == "Degraded"; });
  ASSERT_NE(degraded, p.status.conditions.end());
  EXPECT_EQ(degraded->reason, "StorageChangeRefused");
  EXPECT_EQ(degraded->observedGeneration, c.meta.generation);
}

TEST(OperatorStorage, AnExpansionTheServerRefusedIsNotTriedAgainUntilTheSpecChanges) {
  ZkCluster c = makeCluster(3, 0);
  c.spec.storage.size = "20Gi";
  c.status.conditions.push_back({"Degraded", "True", kVolumeExpansionRefused,
                                 "refused: class fixed", c.meta.generation, "t1"});
  Observed o = healthy(c, "h");
  o.storage = AppliedStorage{"10Gi", std::nullopt};
  Plan p = plan(c, "h", o);
  EXPECT_FALSE(has(p, [](const Action& a) { return std::holds_alternative<ExpandVolumes>(a); }));
  EXPECT_FALSE(has(p, [](const Action& a) { return std::holds_alternative<ApplyObjects>(a); }));
  ++c.meta.generation;  // the user edited the spec: try again
  EXPECT_TRUE(has(plan(c, "h", o),
                  [](const Action& a) { return std::holds_alternative<ExpandVolumes>(a); }));
}

}  // namespace
}  // namespace zk::op

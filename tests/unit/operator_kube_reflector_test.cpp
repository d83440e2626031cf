// What a reflector makes of lists and watch events, without a server: resourceVersions, the
// cluster keys it enqueues, 410 Gone and other errors.
#ifdef ZOOKUBE_HAVE_KUBE

#include <gtest/gtest.h>

#include "kube/reflector.h"

namespace zk::op::kube {
namespace {

using web::json::value;
using Keys = std::vector<std::string>;

value pod(const std::string& name, const std::string& instance, const std::string& rv) {
  return value::parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")" + name +
                      R"(","namespace":"ns","resourceVersion":")" + rv +
                      R"(","labels":{"app.kubernetes.io/instance":")" + instance + R"("}}})");
}

value list(const std::string& rv, std::vector<value> items) {
  value v = value::object();
  v["metadata"]["resourceVersion"] = value::string(rv);
  v["items"] = value::array(std::move(items));
  return v;
}

WatchEvent event(const std::string& type, value object) {
  return {type, std::move(object)};
}

TEST(Reflector, AListSetsTheResourceVersionAndEnqueuesEachClusterOnce) {
  ReflectorState s(keyOfMemberPod);
  Keys keys =
      s.replace(list("10", {pod("a-0", "a", "4"), pod("a-1", "a", "5"), pod("b-0", "b", "6")}));
  EXPECT_EQ(keys, (Keys{"ns/a", "ns/b"}));
  EXPECT_EQ(s.resourceVersion(), "10");
  EXPECT_EQ(s.keys(), (Keys{"ns/a", "ns/b"}));
}

TEST(Reflector, ARelistAlsoEnqueuesClustersWhoseObjectsWentAwayUnseen) {
  ReflectorState s(keyOfMemberPod);
  s.replace(list("10", {pod("a-0", "a", "4"), pod("b-0", "b", "6")}));
  // b-0 was deleted while no watch was open: only the relist can tell.
  EXPECT_EQ(s.replace(list("20", {pod("a-0", "a", "4")})), (Keys{"ns/a", "ns/b"}));
  EXPECT_EQ(s.keys(), (Keys{"ns/a"}));
}

TEST(Reflector, EventsAdvanceTheResourceVersionAndEnqueueTheirCluster) {
  ReflectorState s(keyOfMemberPod);
  s.replace(list("10", {}));
  auto step = s.apply(event("ADDED", pod("a-0", "a", "11")));
  EXPECT_EQ(step.keys, (Keys{"ns/a"}));
  EXPECT_EQ(s.resourceVersion(), "11");
  EXPECT_EQ(s.apply(event("MODIFIED", pod("a-0", "a", "12"))).keys, (Keys{"ns/a"}));
  step = s.apply(event("DELETED", pod("a-0", "a", "13")));
  EXPECT_EQ(step.keys, (Keys{"ns/a"}));
  EXPECT_FALSE(step.relist || step.failed);
  EXPECT_EQ(s.resourceVersion(), "13");
  EXPECT_TRUE(s.keys().empty());
}

TEST(Reflector, ABookmarkOnlyMovesTheResourceVersion) {
  ReflectorState s(keyOfMemberPod);
  s.replace(list("10", {}));
  auto bookmark = value::parse(R"({"kind":"Pod","apiVersion":"v1",
                                   "metadata":{"resourceVersion":"99"}})");
  auto step = s.apply(event("BOOKMARK", bookmark));
  EXPECT_TRUE(step.keys.empty());
  EXPECT_EQ(s.resourceVersion(), "99");
}

TEST(Reflector, AnObjectThatMovesToAnotherClusterEnqueuesBoth) {
  ReflectorState s(keyOfMemberPod);
  s.replace(list("10", {pod("x", "a", "4")}));
  EXPECT_EQ(s.apply(event("MODIFIED", pod("x", "b", "11"))).keys, (Keys{"ns/a", "ns/b"}));
  EXPECT_EQ(s.keys(), (Keys{"ns/b"}));
}

TEST(Reflector, GoneAsAnErrorEventAsksForARelistAndKeepsTheResourceVersion) {
  ReflectorState s(keyOfMemberPod);
  s.replace(list("10", {}));
  auto gone = value::parse(R"({"kind":"Status","apiVersion":"v1","status":"Failure",
                               "reason":"Expired","code":410})");
  auto step = s.apply(event("ERROR", gone));
  EXPECT_TRUE(step.relist);
  EXPECT_FALSE(step.failed);
  EXPECT_EQ(s.resourceVersion(), "10");
}

TEST(Reflector, AnyOtherErrorOrUnknownTypeEndsTheWatchWithoutARelist) {
  ReflectorState s(keyOfMemberPod);
  s.replace(list("10", {}));
  auto internal = value::parse(R"({"kind":"Status","code":500})");
  auto step = s.apply(event("ERROR", internal));
  EXPECT_TRUE(step.failed);
  EXPECT_FALSE(step.relist);
  EXPECT_TRUE(s.apply(event("SURPRISE", pod("a-0", "a", "11"))).failed);
  EXPECT_EQ(s.resourceVersion(), "10");
}

TEST(Reflector, ParsesAWatchLine) {
  WatchEvent e =
      parseWatchEvent(R"({"type":"MODIFIED","object":{"kind":"Pod","metadata":{"name":"p"}}})");
  EXPECT_EQ(e.type, "MODIFIED");
  EXPECT_EQ(e.object.at("metadata").at("name").as_string(), "p");
  EXPECT_ANY_THROW(parseWatchEvent(R"({"kind":"Status"})"));
  EXPECT_ANY_THROW(parseWatchEvent("{not json"));
}

TEST(Reflector, KeysOfTheWatchedKinds) {
  auto zk = value::parse(R"({"metadata":{"name":"demo","namespace":"ns"}})");
  EXPECT_EQ(keyOfZkCluster(zk), "ns/demo");
  auto sts = value::parse(R"({"metadata":{"name":"demo-observer","namespace":"ns",
      "ownerReferences":[{"kind":"ZkCluster","name":"demo","uid":"u"}]}})");
  EXPECT_EQ(keyOfOwnedObject(sts), "ns/demo");
  auto foreign = value::parse(R"({"metadata":{"name":"x","namespace":"ns",
      "ownerReferences":[{"kind":"Deployment","name":"demo","uid":"u"}]}})");
  EXPECT_EQ(keyOfOwnedObject(foreign), std::nullopt);
  EXPECT_EQ(keyOfMemberPod(pod("demo-0", "demo", "1")), "ns/demo");
  EXPECT_EQ(keyOfMemberPod(value::parse(R"({"metadata":{"name":"p","namespace":"ns"}})")),
            std::nullopt);
}

}  // namespace
}  // namespace zk::op::kube

#endif  // ZOOKUBE_HAVE_KUBE

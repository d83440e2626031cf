#include <gtest/gtest.h>

#include <algorithm>

#include "model/zk_cluster.h"

namespace zk::op {
namespace {

std::string manifest(const std::string& spec) {
  return "apiVersion: zookube.dev/v1alpha1\nkind: ZkCluster\nmetadata:\n  name: zk\n  namespace: "
         "prod\nspec:\n" +
         spec;
}

// The errors that parsing `spec` reports; empty when it parses.
std::vector<std::string> errorsOf(const std::string& spec) {
  try {
    parseZkClusterYaml(manifest(spec));
  } catch (const SpecError& e) {
    return e.errors();
  }
  return {};
}

bool hasError(const std::vector<std::string>& errors, const std::string& text) {
  return std::any_of(errors.begin(), errors.end(), [&](const std::string& e) { return e == text; });
}

TEST(OperatorModel, DefaultsMatchTheCrd) {
  ZkCluster c = parseZkClusterYaml(manifest("  {}\n"));
  EXPECT_EQ(c.meta.name, "zk");
  EXPECT_EQ(c.meta.ns, "prod");
  EXPECT_EQ(c.spec.voters, 3);
  EXPECT_EQ(c.spec.observers, 0);
  EXPECT_EQ(c.spec.imagePullPolicy, "IfNotPresent");
  EXPECT_EQ(c.spec.storage.size, "10Gi");
  EXPECT_EQ(c.spec.storage.reclaimPolicy, ReclaimPolicy::kRetain);
  EXPECT_EQ(c.spec.ports, Ports{});
  EXPECT_EQ(c.spec.ports.client, 2181);
}

TEST(OperatorModel, ReadsEveryField) {
  ZkCluster c = parseZkClusterYaml(manifest(R"(  voters: 5
  observers: 2
  image: "example/zk:1.2"
  imagePullPolicy: Always
  resources: {requests: {cpu: 500m}}
  storage: {size: 5Gi, storageClassName: fast, reclaimPolicy: Delete}
  config: {tickTime: "2000", "4lw.commands.whitelist": "*"}
  ports: {client: 12181, quorum: 12888, election: 13888, metrics: 17000, admin: 18080}
  pod:
    labels: {team: a}
    nodeSelector: {disk: ssd}
    tolerations: [{key: k, operator: Exists}]
    priorityClassName: high
  superUserSecret: {name: zk-super}
)"));
  EXPECT_EQ(c.spec.voters, 5);
  EXPECT_EQ(c.spec.observers, 2);
  EXPECT_EQ(c.spec.image, "example/zk:1.2");
  EXPECT_EQ(c.spec.storage.storageClassName, "fast");
  EXPECT_EQ(c.spec.storage.reclaimPolicy, ReclaimPolicy::kDelete);
  EXPECT_EQ(c.spec.config.at("tickTime"), "2000");
  EXPECT_EQ(c.spec.ports.election, 13888);
  EXPECT_EQ(c.spec.pod.labels.at("team"), "a");
  ASSERT_TRUE(c.spec.pod.tolerations.has_value());
  EXPECT_EQ(c.spec.pod.tolerations->size(), 1u);
  EXPECT_EQ(c.spec.superUserSecret->name, "zk-super");
  EXPECT_EQ(c.spec.superUserSecret->key, "password");
  EXPECT_EQ(c.spec.resources->at("requests").at("cpu").as_string(), "500m");
}

TEST(OperatorModel, ErrorsNameTheFieldPath) {
  EXPECT_TRUE(hasError(errorsOf("  voters: 4\n"), "spec.voters: must be odd, got 4"));
  EXPECT_TRUE(hasError(errorsOf("  voters: 9\n"), "spec.voters: must be between 1 and 7, got 9"));
  EXPECT_TRUE(hasError(errorsOf("  voters: three\n"), "spec.voters: must be an integer"));
  EXPECT_TRUE(
      hasError(errorsOf("  observers: -1\n"), "spec.observers: must be between 0 and 100, got -1"));
  EXPECT_TRUE(hasError(errorsOf("  imagePullPolicy: Sometimes\n"),
                       "spec.imagePullPolicy: must be Always, IfNotPresent or Never, got "
                       "\"Sometimes\""));
  EXPECT_TRUE(hasError(errorsOf("  storage: {reclaimPolicy: Keep}\n"),
                       "spec.storage.reclaimPolicy: must be Retain or Delete, got \"Keep\""));
  EXPECT_TRUE(hasError(errorsOf("  ports: {client: 70000}\n"),
                       "spec.ports.client: must be between 1 and 65535, got 70000"));
  EXPECT_TRUE(hasError(errorsOf("  ports: {quorum: 2181}\n"),
                       "spec.ports.quorum: must differ from ports.client"));
  EXPECT_TRUE(hasError(errorsOf("  votrs: 3\n"), "spec.votrs: unknown field"));
  EXPECT_TRUE(hasError(errorsOf("  storage: {sise: 1Gi}\n"), "spec.storage.sise: unknown field"));
}

TEST(OperatorModel, EveryErrorIsReportedAtOnce) {
  auto errors = errorsOf("  voters: 2\n  observers: -3\n  bogus: 1\n");
  EXPECT_EQ(errors.size(), 3u);
}

TEST(OperatorModel, OperatorOwnedConfigKeysAreRefused) {
  for (const char* key : {"server.1", "dataDir", "dataLogDir", "clientPort", "skipACL", "peerType",
                          "dynamicConfigFile", "metricsProvider.httpPort", "admin.serverPort"}) {
    auto errors = errorsOf(std::string("  config: {\"") + key + "\": x}\n");
    EXPECT_TRUE(hasError(errors, std::string("spec.config.") + key +
                                     ": is set by the operator and cannot be overridden"))
        << key;
  }
  EXPECT_TRUE(errorsOf("  config: {tickTime: \"2000\", initLimit: \"10\"}\n").empty());
  EXPECT_TRUE(
      hasError(errorsOf("  config: {tickTime: 2000}\n"), "spec.config.tickTime: must be a string"));
}

TEST(OperatorModel, ConfigValuesAreCheckedByTheServersParser) {
  auto errors = errorsOf("  config: {tickTime: abc, maxClientCnxns: \"-1\", syncLimit: \"3\"}\n");
  EXPECT_EQ(errors, (std::vector<std::string>{
                        "spec.config.maxClientCnxns: -1 is out of range 0..2147483647",
                        "spec.config.tickTime: 'abc' is not a number"}));
  EXPECT_TRUE(hasError(errorsOf("  config: {minSessionTimeout: \"50000\"}\n"),
                       "spec.config: minSessionTimeout must not be larger than maxSessionTimeout"));
  EXPECT_TRUE(errorsOf("  config: {someFutureKey: x, tickTime: \"100\"}\n").empty())
      << "keys the server ignores are passed through";
}

TEST(OperatorModel, ImageReferencesAndQuantitiesAreChecked) {
  EXPECT_FALSE(errorsOf("  image: \"Not An Image\"\n").empty());
  EXPECT_TRUE(errorsOf("  image: registry.example:5000/a/b:1.0\n").empty());
  EXPECT_TRUE(hasError(errorsOf("  resources: {requests: {cpu: lots}}\n"),
                       "spec.resources.requests.cpu: must be a quantity such as 500m or 2Gi"));
  EXPECT_TRUE(
      errorsOf("  resources: {requests: {cpu: 500m, memory: 1Gi}, limits: {cpu: 2}}\n").empty());
}

TEST(OperatorModel, MetadataAndKindAreChecked) {
  try {
    parseZkClusterYaml("apiVersion: v1\nkind: Pod\nmetadata: {name: Bad_Name}\n");
    FAIL() << "accepted";
  } catch (const SpecError& e) {
    EXPECT_TRUE(hasError(e.errors(), "apiVersion: must be zookube.dev/v1alpha1"));
    EXPECT_TRUE(hasError(e.errors(), "kind: must be ZkCluster"));
    EXPECT_EQ(std::count_if(e.errors().begin(), e.errors().end(),
                            [](const std::string& s) { return s.starts_with("metadata.name"); }),
              1);
  }
}

TEST(OperatorModel, MalformedYamlIsASpecError) {
  EXPECT_THROW(parseZkClusterYaml("spec: [unclosed\n"), SpecError);
}

TEST(OperatorModel, YamlScalarsAreTypedAsYaml12) {
  auto v = yamlToJson("a: 3\nb: \"3\"\nc: true\nd: 1.5\ne: ~\nf: 0x1F\ng: text\n");
  EXPECT_TRUE(v.at("a").is_integer());
  EXPECT_TRUE(v.at("b").is_string());
  EXPECT_TRUE(v.at("c").is_boolean());
  EXPECT_DOUBLE_EQ(v.at("d").as_double(), 1.5);
  EXPECT_TRUE(v.at("e").is_null());
  EXPECT_TRUE(v.at("f").is_string());
  EXPECT_EQ(v.at("g").as_string(), "text");
}

TEST(OperatorModel, StatusRoundTripsThroughJson) {
  ZkClusterStatus s;
  s.observedGeneration = 7;
  s.phase = "Rolling";
  s.leader = "zk-2";
  s.members = {{"zk-0", 1, MemberRole::kFollower, true, 0x100000002LL, "img:1"},
               {"zk-2", 3, MemberRole::kLeader, true, 0x7fffffff00000001LL, "img:1"}};
  s.quorumSize = 2;
  s.voters = 3;
  s.observers = 1;
  s.readyMembers = 2;
  s.selector = "app.kubernetes.io/instance=zk";
  s.conditions = {{"Progressing", "True", "Rolling", "restarting zk-1", 7, "2026-01-01T00:00:00Z"}};
  s.roll = {"abc/img:1", {"zk-observer-0"}, "zk-1", 0x100000009LL, true};
  EXPECT_EQ(parseStatus(toJson(s)), s);
}

TEST(OperatorModel, SpecSerializesBackToAnEquivalentSpec) {
  ZkCluster c = parseZkClusterYaml(manifest("  voters: 5\n  config: {tickTime: \"100\"}\n"));
  web::json::value obj = web::json::value::object();
  obj["apiVersion"] = web::json::value::string("zookube.dev/v1alpha1");
  obj["kind"] = web::json::value::string("ZkCluster");
  obj["metadata"] = web::json::value::object();
  obj["metadata"]["name"] = web::json::value::string("zk");
  obj["spec"] = toJson(c.spec);
  ZkCluster again = parseZkCluster(obj);
  EXPECT_EQ(again.spec.voters, 5);
  EXPECT_EQ(again.spec.config, c.spec.config);
}

}  // namespace
}  // namespace zk::op

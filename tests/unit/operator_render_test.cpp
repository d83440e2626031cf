#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "operator_spec_test_util.h"
#include "render/render.h"

#include <cpprest/asyncrt_utils.h>

namespace zk::op {
namespace {

using web::json::value;

ZkCluster cluster(const std::string& spec = "  {}\n") {
  return clusterWithSpec(spec);
}

std::vector<std::string> lines(const std::string& text, const std::string& prefix) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    if (l.starts_with(prefix)) out.push_back(l);
  }
  return out;
}

const value& find(const std::vector<value>& objects, const std::string& kind,
                  const std::string& name) {
  for (const value& o : objects) {
    if (o.at("kind").as_string() == kind && o.at("metadata").at("name").as_string() == name) {
      return o;
    }
  }
  throw std::runtime_error("no " + kind + " " + name);
}

TEST(OperatorRender, MyidsAreStablePerOrdinalAndObserversHaveTheirOwnRange) {
  ZkCluster c = cluster("  voters: 5\n  observers: 2\n");
  auto ms = members(c, desiredMembership(c));
  ASSERT_EQ(ms.size(), 7u);
  EXPECT_EQ(ms[0], (Member{"zk-0", 0, 1, true}));
  EXPECT_EQ(ms[4], (Member{"zk-4", 4, 5, true}));
  EXPECT_EQ(ms[5], (Member{"zk-observer-0", 0, 101, false}));
  EXPECT_EQ(ms[6], (Member{"zk-observer-1", 1, 102, false}));
  // Fewer voters renumber nobody.
  EXPECT_EQ(members(c, {3, 2})[3], ms[5]);
  EXPECT_EQ(renderMyid(ms[6]), "102\n");
}

TEST(OperatorRender, KubernetesServerLinesUseTheHeadlessServiceNames) {
  ZkCluster c = cluster("  observers: 1\n");
  Member self = voterMember(c, 1);
  std::string cfg = renderZooCfg(c, self, desiredMembership(c), Addressing::kubernetes());
  EXPECT_EQ(lines(cfg, "server."),
            (std::vector<std::string>{
                "server.1=zk-0.zk-headless.prod.svc.cluster.local:2888:3888:participant;2181",
                "server.2=zk-1.zk-headless.prod.svc.cluster.local:2888:3888:participant;2181",
                "server.3=zk-2.zk-headless.prod.svc.cluster.local:2888:3888:participant;2181",
                "server.101=zk-observer-0.zk-headless.prod.svc.cluster.local:2888:3888:observer;"
                "2181"}));
  EXPECT_EQ(lines(cfg, "dataDir="), std::vector<std::string>{"dataDir=/data"});
  EXPECT_EQ(lines(cfg, "peerType="), std::vector<std::string>{"peerType=participant"});
  std::string obs =
      renderZooCfg(c, observerMember(c, 0), desiredMembership(c), Addressing::kubernetes());
  EXPECT_EQ(lines(obs, "peerType="), std::vector<std::string>{"peerType=observer"});
}

TEST(OperatorRender, LocalMembersGetDistinctLoopbackPortsThatNeverMove) {
  ZkCluster c = cluster("  voters: 7\n  observers: 3\n");
  Addressing a = Addressing::local("/tmp/state");
  std::set<int> ports;
  for (const Member& m : members(c, desiredMembership(c))) {
    Endpoint e = endpointOf(c, m, a);
    EXPECT_EQ(e.host, "127.0.0.1");
    for (int p : {e.ports.client, e.ports.quorum, e.ports.election, e.ports.metrics}) {
      EXPECT_TRUE(ports.insert(p).second) << m.name << " reuses port " << p;
    }
    std::string cfg = renderZooCfg(c, m, desiredMembership(c), a);
    EXPECT_EQ(lines(cfg, "dataDir="),
              std::vector<std::string>{"dataDir=/tmp/state/" + m.name + "/data"});
    EXPECT_EQ(lines(cfg, "clientPort="),
              std::vector<std::string>{"clientPort=" + std::to_string(e.ports.client)});
  }
  EXPECT_EQ(endpointOf(c, voterMember(c, 0), a).ports.client, 2181);
  // An observer's address does not depend on how many voters there are.
  ZkCluster fewer = cluster("  voters: 1\n  observers: 3\n");
  EXPECT_EQ(endpointOf(fewer, observerMember(fewer, 2), a).ports.client,
            endpointOf(c, observerMember(c, 2), a).ports.client);
}

TEST(OperatorRender, OverridesLandInTheFileAndTheWhitelistKeepsWhatTheOperatorNeeds) {
  ZkCluster c = cluster("  config: {tickTime: \"500\", \"4lw.commands.whitelist\": \"ruok\"}\n");
  std::string cfg =
      renderZooCfg(c, voterMember(c, 0), desiredMembership(c), Addressing::kubernetes());
  EXPECT_EQ(lines(cfg, "tickTime="), std::vector<std::string>{"tickTime=500"});
  EXPECT_EQ(lines(cfg, "4lw.commands.whitelist="),
            std::vector<std::string>{"4lw.commands.whitelist=ruok,srvr,mntr,conf"});
  EXPECT_EQ(lines(cfg, "reconfigEnabled="), std::vector<std::string>{"reconfigEnabled=true"});
  EXPECT_TRUE(lines(cfg, "skipACL").empty());
}

TEST(OperatorRender, RolloutHashFollowsWhatNeedsARestartAndNothingElse) {
  Addressing k = Addressing::kubernetes();
  std::string base = rolloutHash(cluster(), k);
  EXPECT_EQ(base, rolloutHash(cluster(), k));
  EXPECT_EQ(base, rolloutHash(cluster("  voters: 5\n  observers: 2\n"), k))
      << "scaling must not roll";
  EXPECT_NE(base, rolloutHash(cluster("  config: {tickTime: \"100\"}\n"), k));
  EXPECT_NE(base, rolloutHash(cluster("  image: other:2\n"), k));
  EXPECT_NE(base, rolloutHash(cluster("  resources: {limits: {cpu: \"1\"}}\n"), k));
  Addressing l = Addressing::local("/s");
  EXPECT_EQ(rolloutHash(cluster(), l), rolloutHash(cluster("  pod: {labels: {a: b}}\n"), l))
      << "pod settings mean nothing locally";
  EXPECT_NE(base, rolloutHash(cluster("  pod: {labels: {a: b}}\n"), k));
  // Members read the super digest when they start: a new password rolls them.
  std::string withDigest = rolloutHash(cluster(), k, "super:abc=");
  EXPECT_NE(base, withDigest);
  EXPECT_NE(withDigest, rolloutHash(cluster(), k, "super:abd="));
  EXPECT_EQ(withDigest.find("abc"), std::string::npos) << "only a hash of the digest is shown";
  auto objects = renderObjects(cluster(), {3, 0}, k, "super:abc=");
  for (const auto& o : objects) {
    if (o.at("kind").as_string() != "StatefulSet") continue;
    EXPECT_EQ(o.at("spec")
                  .at("template")
                  .at("metadata")
                  .at("annotations")
                  .at(kRolloutHashAnnotation)
                  .as_string(),
              withDigest);
  }
}

TEST(OperatorRender, ObjectsAreOwnedLabelledAndRestartedOnlyByTheOperator) {
  ZkCluster c = cluster("  observers: 2\n  storage: {reclaimPolicy: Delete}\n");
  auto objects = renderObjects(c, desiredMembership(c));
  ASSERT_EQ(objects.size(), 6u);
  for (const value& o : objects) {
    const value& meta = o.at("metadata");
    EXPECT_EQ(meta.at("namespace").as_string(), "prod");
    EXPECT_EQ(meta.at("ownerReferences").at(0).at("uid").as_string(), "u-1");
    EXPECT_TRUE(meta.at("ownerReferences").at(0).at("controller").as_bool());
    EXPECT_EQ(meta.at("labels").at("app.kubernetes.io/instance").as_string(), "zk");
  }
  const value& voters = find(objects, "StatefulSet", "zk");
  EXPECT_EQ(voters.at("spec").at("replicas").as_integer(), 3);
  EXPECT_EQ(voters.at("spec").at("updateStrategy").at("type").as_string(), "OnDelete");
  EXPECT_EQ(voters.at("spec").at("serviceName").as_string(), "zk-headless");
  EXPECT_EQ(
      voters.at("spec").at("persistentVolumeClaimRetentionPolicy").at("whenDeleted").as_string(),
      "Delete");
  const value& tmpl = voters.at("spec").at("template");
  EXPECT_EQ(tmpl.at("metadata").at("annotations").at(kRolloutHashAnnotation).as_string(),
            rolloutHash(c, Addressing::kubernetes()));
  const value& ct = tmpl.at("spec").at("containers").at(0);
  EXPECT_EQ(ct.at("readinessProbe").at("exec").at("command").at(1).as_string(), "--probe");
  EXPECT_EQ(ct.at("livenessProbe").at("exec").at("command").at(2).as_string(), "live");
  EXPECT_TRUE(tmpl.at("spec").at("affinity").has_field("podAntiAffinity"));
  EXPECT_EQ(find(objects, "StatefulSet", "zk-observer").at("spec").at("replicas").as_integer(), 2);
  const value& pdb = find(objects, "PodDisruptionBudget", "zk-voters");
  EXPECT_EQ(pdb.at("spec").at("maxUnavailable").as_integer(), 1);
  EXPECT_EQ(
      pdb.at("spec").at("selector").at("matchLabels").at("app.kubernetes.io/component").as_string(),
      "voter");
  const value& headless = find(objects, "Service", "zk-headless");
  EXPECT_EQ(headless.at("spec").at("clusterIP").as_string(), "None");
  EXPECT_TRUE(headless.at("spec").at("publishNotReadyAddresses").as_bool());
}

TEST(OperatorRender, OnlyOwnedObjectsNoLongerRenderedAreUnwanted) {
  ZkCluster c = cluster("  networkPolicy: {enabled: true}\n");
  auto objects = renderObjects(c, desiredMembership(c));
  value policy = find(objects, "NetworkPolicy", networkPolicyName(c));
  value foreign = policy, another = policy, found = value::array();
  foreign["metadata"]["name"] = value::string("users-own");
  foreign["metadata"].erase("ownerReferences");
  another["metadata"]["name"] = value::string("another-clusters");
  another["metadata"]["ownerReferences"][0]["uid"] = value::string("u-2");
  for (const value& o : {policy, foreign, another}) found[found.size()] = o;
  EXPECT_TRUE(unwantedOwned(c, found, objects).empty());
  c.spec.networkPolicy.enabled = false;
  EXPECT_EQ(unwantedOwned(c, found, renderObjects(c, desiredMembership(c))),
            std::vector<std::string>{networkPolicyName(c)});
  EXPECT_EQ(clusterLabelSelector(c),
            "app.kubernetes.io/instance=zk,app.kubernetes.io/name=zookube");
}

TEST(OperatorRender, PodsPutTheirConfigTogetherOnTheDataVolumeWithTheDigestFromASecret) {
  ZkCluster c = cluster();
  auto objects = renderObjects(c, desiredMembership(c));
  const value& pod = find(objects, "StatefulSet", "zk").at("spec").at("template").at("spec");
  const value& digest = pod.at("volumes").at(1);
  EXPECT_EQ(digest.at("secret").at("secretName").as_string(), superDigestSecretName(c));
  std::string command =
      pod.at("containers").at(0).at("command").at(2).as_string();  // sh -c <command>
  // Writable (the server rewrites zoo.cfg on reconfig), and the digest never in the ConfigMap.
  EXPECT_NE(command.find("/etc/zookube-super/super-digest.cfg > /data/zoo.cfg"), std::string::npos);
  EXPECT_NE(command.find("exec zookube-server /data/zoo.cfg"), std::string::npos);
  const value& data = find(objects, "ConfigMap", "zk-config").at("data");
  for (const auto& [key, text] : data.as_object()) {
    EXPECT_EQ(text.as_string().find("superDigest"), std::string::npos) << key;
  }
}

TEST(OperatorRender, TheDigestSecretHoldsOneSettingLine) {
  ZkCluster c = cluster();
  value secret = superDigestSecret(c, "super:abc=");
  EXPECT_EQ(secret.at("metadata").at("name").as_string(), "zk-super-digest");
  EXPECT_EQ(secret.at("metadata").at("ownerReferences").at(0).at("uid").as_string(), "u-1");
  auto bytes =
      utility::conversions::from_base64(secret.at("data").at("super-digest.cfg").as_string());
  EXPECT_EQ(std::string(bytes.begin(), bytes.end()),
            "DigestAuthenticationProvider.superDigest=super:abc=\n");
}

TEST(OperatorRender, LocalAddressingMovesOnlyWhereMembersListenAndTheHashWithIt) {
  ZkCluster c = cluster();
  Addressing local = Addressing::local("/tmp/members");
  auto objects = renderObjects(c, desiredMembership(c), local);
  const value& data = find(objects, "ConfigMap", "zk-config").at("data");
  EXPECT_EQ(lines(data.at("zk-1.cfg").as_string(), "dataDir="),
            std::vector<std::string>{"dataDir=/tmp/members/zk-1/data"});
  EXPECT_EQ(lines(data.at("zk-1.cfg").as_string(), "server.2=")[0].find("server.2=127.0.0.1:"), 0u);
  // The pods carry the hash the backend compares with, or every pass would roll them.
  EXPECT_EQ(find(objects, "StatefulSet", "zk")
                .at("spec")
                .at("template")
                .at("metadata")
                .at("annotations")
                .at(kRolloutHashAnnotation)
                .as_string(),
            rolloutHash(c, local));
}

TEST(OperatorRender, ConfigMapCarriesEveryListedMembersFiles) {
  ZkCluster c = cluster("  voters: 5\n  observers: 1\n");
  auto objects = renderObjects(c, {3, 1});  // mid scale-up: two voters not yet added
  const value& data = find(objects, "ConfigMap", "zk-config").at("data");
  EXPECT_EQ(data.size(), 8u);
  EXPECT_EQ(data.at("zk-observer-0.myid").as_string(), "101\n");
  EXPECT_FALSE(data.has_field("zk-3.cfg"));
  EXPECT_EQ(lines(data.at("zk-2.cfg").as_string(), "server.").size(), 4u);
  EXPECT_EQ(find(objects, "StatefulSet", "zk").at("spec").at("replicas").as_integer(), 3);
}

TEST(OperatorRender, UserPodSettingsReplaceTheDefaults) {
  ZkCluster c = cluster(
      "  pod:\n    affinity: {nodeAffinity: {}}\n    securityContext: {runAsUser: 7}\n"
      "    labels: {team: a}\n    annotations: {note: x}\n");
  auto objects = renderObjects(c, desiredMembership(c));
  const value& tmpl = find(objects, "StatefulSet", "zk").at("spec").at("template");
  EXPECT_TRUE(tmpl.at("spec").at("affinity").has_field("nodeAffinity"));
  EXPECT_FALSE(tmpl.at("spec").at("affinity").has_field("podAntiAffinity"));
  EXPECT_EQ(tmpl.at("spec").at("securityContext").at("runAsUser").as_integer(), 7);
  EXPECT_EQ(tmpl.at("metadata").at("labels").at("team").as_string(), "a");
  EXPECT_EQ(tmpl.at("metadata").at("annotations").at("note").as_string(), "x");
  // What Pod Security "restricted" asks of the container holds whatever the pod's context says.
  const value& sc = tmpl.at("spec").at("containers").at(0).at("securityContext");
  EXPECT_EQ(sc.at("seccompProfile").at("type").as_string(), "RuntimeDefault");
  EXPECT_TRUE(sc.at("runAsNonRoot").as_bool());
  EXPECT_FALSE(sc.at("allowPrivilegeEscalation").as_bool());
  EXPECT_EQ(sc.at("capabilities").at("drop").at(0).as_string(), "ALL");
}

}  // namespace
}  // namespace zk::op

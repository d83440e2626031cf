// Deleting what the operator made for TLS once a cluster is back to plaintext
// (render/tls_cleanup.h): only then, only what it owns, never a Secret the spec names.
#include <gtest/gtest.h>

#include "operator_spec_test_util.h"
#include "render/certificates.h"
#include "render/render.h"
#include "render/tls_cleanup.h"

namespace zk::op {
namespace {

using web::json::value;

// A Secret as the operator writes them (its labels and owner), or with no owner: the user's.
value secret(const ZkCluster& c, const std::string& name, bool owned) {
  value s = superDigestSecret(c, "");
  s["metadata"]["name"] = value::string(name);
  if (!owned) s["metadata"].erase("ownerReferences");
  return s;
}

value podTemplate(const ZkCluster& c) {
  for (const value& o : renderObjects(c, desiredMembership(c))) {
    if (o.at("kind").as_string() == "StatefulSet") return o.at("spec").at("template");
  }
  throw std::runtime_error("no StatefulSet rendered");
}

TEST(OperatorTlsCleanup, OnlyOnceTlsIsOffEverywhereAndNoMemberUsesTheFiles) {
  ZkCluster c = clusterWithSpec("  tls: {client: off}\n");
  EXPECT_TRUE(tlsLeftoversUnused(c, false));
  EXPECT_FALSE(tlsLeftoversUnused(c, true));  // a member still runs with them
  c.status.quorumTls.stage = QuorumTlsStage::kPortUnification;
  EXPECT_FALSE(tlsLeftoversUnused(c, false));  // the quorum is not back to plaintext yet
  EXPECT_FALSE(tlsLeftoversUnused(clusterWithSpec("  tls: {client: both}\n"), false));
}

TEST(OperatorTlsCleanup, APodMountsTheMembersSecretWhileItsTemplateHadTls) {
  ZkCluster on = clusterWithSpec("  tls: {client: on}\n");
  EXPECT_TRUE(podMountsTls(on, podTemplate(on)));
  ZkCluster off = clusterWithSpec("  tls: {client: off}\n");
  EXPECT_FALSE(podMountsTls(off, podTemplate(off)));
  EXPECT_TRUE(podMountsTls(off, podTemplate(on)));  // a pod not rolled yet
  EXPECT_FALSE(podMountsTls(off, value::object()));
}

TEST(OperatorTlsCleanup, OnlyTheOperatorsOwnTlsSecretsAreDeleted) {
  ZkCluster c = clusterWithSpec("  tls: {client: off}\n");
  value found = value::array();
  for (const value& s :
       {secret(c, "zk-zk-ca", true), secret(c, "zk-zk-tls", true),
        secret(c, generatedSuperSecretName(c), true), secret(c, superDigestSecretName(c), true)}) {
    found[found.size()] = s;
  }
  EXPECT_EQ(tlsSecretsToDelete(c, found), (std::vector<std::string>{"zk-zk-ca", "zk-zk-tls"}));
  // One the user made under the same name is not the operator's to delete.
  found[1] = secret(c, "zk-zk-tls", false);
  EXPECT_EQ(tlsSecretsToDelete(c, found), std::vector<std::string>{"zk-zk-ca"});
  // Nor one the spec names, whoever owns it.
  ZkCluster named = clusterWithSpec("  tls: {client: off, secretRef: {name: zk-zk-ca}}\n");
  found[1] = secret(c, "zk-zk-tls", true);
  EXPECT_EQ(tlsSecretsToDelete(named, found), std::vector<std::string>{"zk-zk-tls"});
}

}  // namespace
}  // namespace zk::op

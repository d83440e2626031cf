// The Kubernetes backend reaches a pod the way its annotation says the member runs, whatever the
// spec asks by now (backends/kube/kube_backend.h, render/client_access.h).
#include <gtest/gtest.h>

#include "backends/kube/kube_backend.h"

namespace zk::op::kube {
namespace {

using web::json::value;

ZkCluster withTls(ClientTls mode) {
  ZkCluster c;
  c.meta.name = "zk";
  c.meta.ns = "prod";
  c.spec.ports.client = 2181;
  c.spec.ports.secureClient = 2281;
  c.spec.tls.client = mode;
  return c;
}

value pod(const std::string& access) {
  value p = value::parse(R"({"metadata": {"name": "zk-0", "annotations": {}},
                             "status": {"podIP": "10.1.2.3"}})");
  if (!access.empty()) p["metadata"]["annotations"][kClientAccessAnnotation] = value(access);
  return p;
}

int port(const ZkCluster& c, const value& p) {
  auto target = podIpResolver()(c, voterMember(c, 0), p);
  EXPECT_TRUE(target.has_value());
  EXPECT_EQ(target ? target->host : "", "10.1.2.3");
  return target ? target->port : 0;
}

TEST(OperatorKubeClientAccess, APodStillOnTheOldModeIsDialledOnItsOldPort) {
  // Going back from on to both: a pod not restarted yet listens on the secure port only.
  ZkCluster both = withTls(ClientTls::kBoth);
  EXPECT_EQ(port(both, pod("tls=on,sasl=false,enforce=false")), 2281);
  EXPECT_EQ(port(both, pod("tls=both,sasl=false,enforce=false")), 2181);
  // Going forward from both to on: a pod not restarted yet keeps its unified plaintext port.
  ZkCluster on = withTls(ClientTls::kOn);
  EXPECT_EQ(port(on, pod("tls=both,sasl=false,enforce=false")), 2181);
  EXPECT_EQ(clientAccessOfPod(on, pod("tls=both,sasl=true,enforce=true")),
            (ClientAccess{ClientTls::kBoth, true, true}));
}

TEST(OperatorKubeClientAccess, APodWithoutARecordIsTakenToRunTheSpec) {
  EXPECT_EQ(port(withTls(ClientTls::kOn), pod("")), 2281);
  EXPECT_EQ(port(withTls(ClientTls::kBoth), pod("not a record")), 2181);
  EXPECT_EQ(clientAccessOfPod(withTls(ClientTls::kOn), value::null()),
            (ClientAccess{ClientTls::kOn, false, false}));
}

}  // namespace
}  // namespace zk::op::kube

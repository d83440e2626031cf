// How the operator reaches each member: from what that member runs (its record), never from the
// spec alone, so a roll of tls.client or auth.enforce in either direction keeps every member in
// reach (render/client_access.h).
#include <gtest/gtest.h>

#include "operator_spec_test_util.h"
#include "render/client_access.h"
#include "render/render.h"

namespace zk::op {
namespace {

using web::json::value;

const std::string kSaslEnforced =
    "  auth:\n    sasl:\n      users: [{name: alice, passwordSecretRef: {name: zk-alice}}]\n"
    "    enforce: true\n";

TEST(OperatorClientAccess, EachModeMapsToItsConnectionAndPort) {
  Ports p;
  p.client = 2181;
  p.secureClient = 2281;
  struct Case {
    ClientAccess runs;
    OperatorConnection connect;
    int port;
  };
  for (const Case& k : {
           Case{{ClientTls::kOff, false, false}, {false, false}, 2181},
           // both: the unified plaintext port, which the C client (no TLS) can use as it is.
           Case{{ClientTls::kBoth, false, false}, {false, false}, 2181},
           Case{{ClientTls::kOn, false, false}, {true, false}, 2281},
           // A SASL provider without enforce still admits the digest super user.
           Case{{ClientTls::kOff, true, false}, {false, false}, 2181},
           Case{{ClientTls::kOff, true, true}, {false, true}, 2181},
           Case{{ClientTls::kBoth, true, true}, {false, true}, 2181},
           Case{{ClientTls::kOn, true, true}, {true, true}, 2281},
       }) {
    SCOPED_TRACE(formatClientAccess(k.runs));
    EXPECT_EQ(operatorConnection(k.runs), k.connect);
    EXPECT_EQ(operatorPort(k.runs, p), k.port);
  }
}

TEST(OperatorClientAccess, TheRecordRoundTripsAndAnythingElseIsNoRecord) {
  for (ClientTls tls : {ClientTls::kOff, ClientTls::kBoth, ClientTls::kOn}) {
    for (bool sasl : {false, true}) {
      for (bool enforce : {false, true}) {
        ClientAccess a{tls, sasl, enforce};
        EXPECT_EQ(parseClientAccess(formatClientAccess(a)), a) << formatClientAccess(a);
      }
    }
  }
  EXPECT_EQ(formatClientAccess({ClientTls::kOn, true, false}), "tls=on,sasl=true,enforce=false");
  for (const char* bad : {"", "tls=on", "tls=on,sasl=true", "tls=maybe,sasl=true,enforce=true",
                          "tls=on,sasl=yes,enforce=true", "tls=on,sasl=true,enforce=true,x=1",
                          "tls=on,tls=off,sasl=true,enforce=true", "tls=on,sasl=true,enforce"}) {
    EXPECT_EQ(parseClientAccess(bad), std::nullopt) << bad;
  }
}

TEST(OperatorClientAccess, AMemberWithoutAValidRecordIsTakenToRunTheSpec) {
  ZkCluster c = clusterWithSpec("  tls: {client: on}\n" + kSaslEnforced);
  ClientAccess spec{ClientTls::kOn, true, true};
  EXPECT_EQ(clientAccessOf(c), spec);
  EXPECT_EQ(recordedOrSpec("", c), spec);
  EXPECT_EQ(recordedOrSpec("edited by hand", c), spec);
  // A member still on the old settings mid-roll is reached as it runs: plaintext, no SASL.
  ClientAccess old{ClientTls::kBoth, false, false};
  EXPECT_EQ(recordedOrSpec(formatClientAccess(old), c), old);
  EXPECT_EQ(operatorConnection(recordedOrSpec(formatClientAccess(old), c)),
            (OperatorConnection{false, false}));
}

TEST(OperatorClientAccess, ThePodTemplateRecordsWhatItsPodsRun) {
  auto annotationOf = [](const ZkCluster& c) {
    for (const value& o : renderObjects(c, desiredMembership(c))) {
      if (o.at("kind").as_string() != "StatefulSet") continue;
      return o.at("spec").at("template").at("metadata").at("annotations");
    }
    throw std::runtime_error("no StatefulSet");
  };
  value plain = annotationOf(clusterWithSpec("  {}\n"));
  EXPECT_EQ(plain.at(kClientAccessAnnotation).as_string(), "tls=off,sasl=false,enforce=false");
  value secure = annotationOf(clusterWithSpec("  tls: {client: on}\n" + kSaslEnforced));
  EXPECT_EQ(secure.at(kClientAccessAnnotation).as_string(), "tls=on,sasl=true,enforce=true");
  // The user's pod annotations cannot stand in for it.
  value mine = annotationOf(clusterWithSpec(
      "  pod: {annotations: {zookube.dev/client-access: 'tls=off,sasl=false,enforce=false'}}\n"
      "  tls: {client: both}\n"));
  EXPECT_EQ(mine.at(kClientAccessAnnotation).as_string(), "tls=both,sasl=false,enforce=false");
}

}  // namespace
}  // namespace zk::op

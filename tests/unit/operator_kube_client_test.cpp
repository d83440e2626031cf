// The Kubernetes side's pure parts: kubeconfig, REST paths, Lease times, srvr answers and the
// objects the backend writes. Compiled only when zk_operator_kube is linked into unit_operator.
#ifdef ZOOKUBE_HAVE_KUBE

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "backends/kube/kube_backend.h"
#include "backends/kube/srvr_client.h"
#include "kube/kube_client.h"
#include "kube/kube_config.h"
#include "kube/leader_election.h"

namespace zk::op::kube {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "kubecfg-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name) << text;
  }

 private:
  fs::path path_;
};

constexpr const char* kKubeconfig = R"(apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: prod
  cluster: {server: "https://prod:6443"}
- name: devc
  cluster:
    server: "https://10.0.0.1:6443/"
    certificate-authority-data: Q0EtUEVN
users:
- name: alice
  user:
    client-certificate: certs/alice.crt
    client-key: certs/alice.key
- name: bot
  user: {token: "abc123"}
contexts:
- name: dev
  context: {cluster: devc, user: alice, namespace: zk}
- name: prod
  context: {cluster: prod, user: bot}
)";

TEST(Kubeconfig, CurrentContextWithInlineCaAndCertFilesRelativeToTheFile) {
  TempDir dir;
  fs::create_directories(dir.path() / "certs");
  dir.write("certs/alice.crt", "CERT");
  dir.write("certs/alice.key", "KEY");
  KubeConfig cfg = parseKubeconfig(kKubeconfig, dir.path());
  EXPECT_EQ(cfg.server, "https://10.0.0.1:6443");
  EXPECT_EQ(cfg.caPem, "CA-PEM");
  EXPECT_EQ(cfg.certPem, "CERT");
  EXPECT_EQ(cfg.keyPem, "KEY");
  EXPECT_EQ(cfg.ns, "zk");
  EXPECT_TRUE(cfg.token.empty());
}

TEST(Kubeconfig, NamedContextWithToken) {
  KubeConfig cfg = parseKubeconfig(kKubeconfig, "/nonexistent", "prod");
  EXPECT_EQ(cfg.server, "https://prod:6443");
  EXPECT_EQ(cfg.token, "abc123");
  EXPECT_EQ(cfg.ns, "default");
  EXPECT_TRUE(cfg.caPem.empty());
}

TEST(Kubeconfig, MissingPiecesAreNamed) {
  EXPECT_THROW(parseKubeconfig(kKubeconfig, "/nonexistent", "staging"), std::runtime_error);
  // alice's certificate files are not there.
  EXPECT_THROW(parseKubeconfig(kKubeconfig, "/nonexistent"), std::runtime_error);
  EXPECT_THROW(parseKubeconfig("clusters: []\n", "/"), std::runtime_error);
}

TEST(Kubeconfig, InClusterNeedsTheServiceAccountAndTheEnvironment) {
  TempDir dir;
  dir.write("token", "sa-token\n");
  dir.write("ca.crt", "SA-CA");
  dir.write("namespace", "ops");
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  EXPECT_FALSE(inClusterConfig(dir.path()).has_value());
  ::setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
  ::setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  auto cfg = inClusterConfig(dir.path());
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  ::unsetenv("KUBERNETES_SERVICE_PORT");
  ASSERT_TRUE(cfg.has_value());
  EXPECT_EQ(cfg->server, "https://[fd00::1]:443");
  EXPECT_EQ(cfg->token, "sa-token");
  EXPECT_EQ(cfg->tokenFile, dir.path() / "token");
  EXPECT_EQ(cfg->caPem, "SA-CA");
  EXPECT_EQ(cfg->ns, "ops");
}

TEST(ResourcePath, CoreGroupedCustomAndSubresources) {
  EXPECT_EQ(resourcePath("v1", "Pod", "zk", "demo-0"), "/api/v1/namespaces/zk/pods/demo-0");
  EXPECT_EQ(resourcePath("apps/v1", "StatefulSet", "zk"),
            "/apis/apps/v1/namespaces/zk/statefulsets");
  EXPECT_EQ(resourcePath("zookube.dev/v1alpha1", "ZkCluster", ""),
            "/apis/zookube.dev/v1alpha1/zkclusters");
  EXPECT_EQ(resourcePath("zookube.dev/v1alpha1", "ZkCluster", "a", "b", "status"),
            "/apis/zookube.dev/v1alpha1/namespaces/a/zkclusters/b/status");
  EXPECT_THROW(resourcePath("apps/v1", "Deployment", "zk"), std::invalid_argument);
  auto obj = web::json::value::parse(
      R"({"apiVersion":"policy/v1","kind":"PodDisruptionBudget",
          "metadata":{"name":"demo-voters","namespace":"x"}})");
  EXPECT_EQ(objectPath(obj), "/apis/policy/v1/namespaces/x/poddisruptionbudgets/demo-voters");
}

TEST(LeaseTime, MicroTimeRoundTripsAndRefusesOtherForms) {
  auto t = std::chrono::system_clock::time_point(std::chrono::microseconds(1700000000123456LL));
  EXPECT_EQ(microTime(t), "2023-11-14T22:13:20.123456Z");
  EXPECT_EQ(parseMicroTime(microTime(t)), t);
  EXPECT_EQ(parseMicroTime("2023-11-14T22:13:20Z"),
            std::chrono::system_clock::time_point(std::chrono::seconds(1700000000)));
  EXPECT_FALSE(parseMicroTime("2023-11-14T22:13:20+01:00").has_value());
  EXPECT_FALSE(parseMicroTime("yesterday").has_value());
}

TEST(Srvr, ParsesModeAndZxid) {
  auto a = parseSrvrAnswer("Zookeeper version: x\nZxid: 0x20000000a\nMode: leader\n");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->role, MemberRole::kLeader);
  EXPECT_EQ(a->zxid, 0x20000000aLL);
  EXPECT_FALSE(parseSrvrAnswer("This ZooKeeper instance is not currently serving requests\n"));
}

// A one-shot srvr listener on loopback; port() is where it listens.
class FakeMember {
 public:
  explicit FakeMember(std::string answer) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len);
    ::listen(fd_, 4);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this, answer = std::move(answer)] {
      int conn = ::accept(fd_, nullptr, nullptr);
      char buf[4];
      if (conn >= 0 && ::recv(conn, buf, sizeof buf, MSG_WAITALL) == 4) {
        ::send(conn, answer.data(), answer.size(), MSG_NOSIGNAL);
      }
      if (conn >= 0) ::close(conn);
    });
  }
  ~FakeMember() {
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

TEST(Conf, MembershipIsTheServerLinesOfTheLeadersConf) {
  // zookube's and ZooKeeper's `conf` (ZooKeeper puts "membership: " before the lines).
  auto view = membershipFromConf(
      "clientPort=2181\ntickTime=2000\nmembership: \n"
      "server.1=zk-0.h:2888:3888:participant;0.0.0.0:2181\n"
      "server.2=zk-1.h:2888:3888:participant;0.0.0.0:2181\n"
      "server.101=zk-observer-0.h:2888:3888:observer;0.0.0.0:2181\nversion=100000003\n");
  ASSERT_TRUE(view);
  EXPECT_EQ(view->voters, (std::set<int>{1, 2}));
  EXPECT_EQ(view->observers, (std::set<int>{101}));
  EXPECT_FALSE(membershipFromConf("clientPort=2181\ndataDir=/data\n"));  // standalone
  EXPECT_THROW(membershipFromConf("server.x=zk-0.h:2888:3888\n"), std::invalid_argument);
}

TEST(Srvr, AsksManyAtOnceAndGivesUpOnTheSilent) {
  FakeMember follower("Zxid: 0x5\nMode: follower\n");
  int closedPort = 0;
  {
    FakeMember gone("");
    closedPort = gone.port();
  }
  auto start = std::chrono::steady_clock::now();
  auto answers = askSrvr({{"127.0.0.1", follower.port()}, {"127.0.0.1", closedPort}},
                         std::chrono::milliseconds(2000));
  ASSERT_EQ(answers.size(), 2u);
  ASSERT_TRUE(answers[0].has_value());
  EXPECT_EQ(answers[0]->role, MemberRole::kFollower);
  EXPECT_EQ(answers[0]->zxid, 5);
  EXPECT_FALSE(answers[1].has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(2000));
}

ZkCluster demo() {
  ZkCluster c;
  c.meta.name = "demo";
  c.meta.ns = "zk";
  c.meta.uid = "u-1";
  return c;
}

TEST(KubeBackend, PodNamesMapToMembers) {
  ZkCluster c = demo();
  EXPECT_EQ(memberOfPod(c, "demo-2"), voterMember(c, 2));
  EXPECT_EQ(memberOfPod(c, "demo-observer-1"), observerMember(c, 1));
  EXPECT_FALSE(memberOfPod(c, "demo-observer").has_value());
  EXPECT_FALSE(memberOfPod(c, "demo-x").has_value());
  EXPECT_FALSE(memberOfPod(c, "demo-9").has_value());  // more than kMaxVoters
  EXPECT_FALSE(memberOfPod(c, "other-0").has_value());
}

TEST(KubeBackend, StatusBodyCarriesOnlyIdentityAndStatus) {
  ZkCluster c = demo();
  c.spec.voters = 5;
  ZkClusterStatus s;
  s.phase = "Running";
  s.observedGeneration = 4;
  auto body = statusApplyBody(c, s);
  EXPECT_FALSE(body.has_field("spec"));
  EXPECT_EQ(body.at("metadata").at("namespace").as_string(), "zk");
  EXPECT_EQ(body.at("status").at("phase").as_string(), "Running");
  EXPECT_EQ(body.at("status").at("observedGeneration").as_number().to_int64(), 4);
}

TEST(KubeBackend, EventsPointAtTheClusterAndRepeatUnderOneName) {
  ZkCluster c = demo();
  auto a = eventObject(c, {true, "RollPaused", "quorum unhealthy"}, "2026-01-01T00:00:00Z");
  auto b = eventObject(c, {true, "RollPaused", "quorum unhealthy"}, "2026-01-02T00:00:00Z");
  auto other = eventObject(c, {false, "Rolling", "demo-0"}, "2026-01-01T00:00:00Z");
  EXPECT_EQ(a.at("type").as_string(), "Warning");
  EXPECT_EQ(other.at("type").as_string(), "Normal");
  EXPECT_EQ(a.at("involvedObject").at("uid").as_string(), "u-1");
  EXPECT_EQ(a.at("involvedObject").at("kind").as_string(), "ZkCluster");
  EXPECT_EQ(a.at("metadata").at("name"), b.at("metadata").at("name"));
  EXPECT_NE(a.at("metadata").at("name"), other.at("metadata").at("name"));
}

}  // namespace
}  // namespace zk::op::kube

#endif  // ZOOKUBE_HAVE_KUBE
